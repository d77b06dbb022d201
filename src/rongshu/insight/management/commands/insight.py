"""``rongshu insight build|export|results``: the profile build and the lake export."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rongshu.insight import export, services


class Command(BaseCommand):
    help = "Profile indicators, segments and lifecycle: build, export the lake."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="run the library on the lake, load serving tables")
        build.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
        build.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        build.add_argument("--lake", type=Path, default=None)
        build.add_argument(
            "--incremental",
            action="store_true",
            help="DuckDB: update the per-day partials kept under the results dir (full first time)",
        )
        exp = sub.add_parser("export", help="export OLTP tables and events to the lake")
        exp.add_argument("--lake", type=Path, default=None)
        exp.add_argument("--since", type=dt.date.fromisoformat, default=None)
        exp.add_argument("--until", type=dt.date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        lake = options["lake"] or services.lake_dir()
        started = time.perf_counter()
        if options["action"] == "export":
            counts = export.export_lake(lake, since=options["since"], until=options["until"])
            self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
            return
        from tqdm import tqdm

        steps = ["indicators", "segments", "collect", "load serving tables", "done"]
        if options["incremental"]:  # partials, affected, merge windows, save state
            steps += ["partials", "affected customers", "merge windows", "save state"]
        with tqdm(total=len(steps), desc="insight build", file=self.stderr) as bar:

            def progress(message: str) -> None:
                bar.set_postfix_str(message)
                bar.update(1)

            summary = services.do_build(
                as_of=options["as_of"],
                engine=options["engine"],
                lake=lake,
                progress=progress,
                incremental=options["incremental"],
            )
        self.stdout.write(
            f"{summary.as_of} on {summary.engine}: {summary.customers} customers, "
            f"{summary.indicators} indicators, {summary.segments} segments, "
            f"{summary.entered} entered, {summary.left} left, {summary.transitions} stage changes "
            f"in {time.perf_counter() - started:.1f}s"
        )
