"""``rongshu seed``: generate the synthetic bank — into the database (``--load``), the insight
lake (``--lake DIR``) and/or the entity-resolution source files (``--sources DIR``)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Generate the synthetic bank: --load posts it through the services into the database, "
        "--lake DIR writes the insight lake's Parquet layout, --sources DIR the noisy source "
        "files for unique identification."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--end-on",
            type=dt.date.fromisoformat,
            default=None,
            help="last day (YYYY-MM-DD); default: the business date",
        )
        parser.add_argument("--lake", type=Path, default=None)
        parser.add_argument("--sources", type=Path, default=None)
        parser.add_argument("--load", action="store_true")
        parser.add_argument(
            "--workers", type=int, default=1, help="lake writer processes (one per core)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        customers, months, seed = options["customers"], options["months"], options["seed"]
        if customers < 1 or months < 1:
            raise CommandError("--customers and --months must be at least 1")
        if not (options["lake"] or options["sources"] or options["load"]):
            raise CommandError("say what to generate: --load, --lake DIR and/or --sources DIR")
        from rongshu.kernel import clock

        end_on = options["end_on"] or clock.get_business_date()
        say = self.stdout.write
        if options["lake"]:
            from rongshu.simulation.bank.lake import write_lake

            started = time.perf_counter()
            counts = write_lake(
                options["lake"],
                customers=customers,
                months=months,
                seed=seed,
                end_on=end_on,
                progress=say,
                workers=options["workers"],
            )
            say(f"lake {options['lake']}: {counts} in {time.perf_counter() - started:.1f} s")
        if options["sources"]:
            from rongshu.simulation.bank.sources import write_sources

            started = time.perf_counter()
            counts = write_sources(options["sources"], people=customers, seed=seed, progress=say)
            say(f"sources {options['sources']}: {counts} in {time.perf_counter() - started:.1f} s")
        if options["load"]:
            from rongshu.simulation.bank.load import load_bank

            started = time.perf_counter()
            with transaction.atomic():
                counts = load_bank(
                    customers=customers, months=months, seed=seed, end_on=end_on, progress=say
                )
            say(f"database: {counts} in {time.perf_counter() - started:.1f} s")
