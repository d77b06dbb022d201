"""``rongshu customers ingest <file> --source NAME`` (CSV, Parquet or JSON) and
``rongshu customers resolve [--engine duckdb|spark] [--retrain]`` with progress, and
``rongshu customers quality`` (the nightly check, on demand)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rongshu.customers import services
from rongshu.customers.types import SOURCES
from rongshu.kernel import clock
from rongshu.kernel.errors import DomainError


class Command(BaseCommand):
    help = "Unified customer view: ingest sources, resolve customers, check quality."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="ingest a CSV / Parquet / JSON batch")
        ingest.add_argument("file")
        ingest.add_argument("--source", required=True, choices=sorted(SOURCES))
        resolve = sub.add_parser("resolve", help="resolve every source record to a customer")
        resolve.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
        resolve.add_argument("--retrain", action="store_true", help="train a new model version")
        sub.add_parser("quality", help="run the data-quality check for the business date")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "ingest":
                got = services.do_ingest_file(options["file"], source=options["source"])
                if got.duplicate_batch:
                    self.stdout.write(f"{got.source}: batch already received, nothing changed")
                else:
                    self.stdout.write(
                        f"{got.source}: {got.rows} rows, {got.new} new, {got.changed} changed"
                    )
            elif options["action"] == "resolve":
                result = services.do_resolve(
                    engine=options["engine"],
                    retrain=options["retrain"],
                    progress=lambda m: self.stdout.write(f"  {m}"),
                )
                self.stdout.write(
                    f"{result.records} records → {result.customers} customers "
                    f"(model {result.model_version}, {result.review_pending} to review, "
                    f"{result.seconds:.1f} s)"
                )
            else:
                metrics = services.do_check_quality(clock.get_business_date())
                for key, value in metrics.items():
                    self.stdout.write(f"{key}: {value}")
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
