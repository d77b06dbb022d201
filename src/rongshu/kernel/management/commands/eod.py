from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rongshu.kernel.eod import EodFailed, do_run_eod


class Command(BaseCommand):
    help = "Run end-of-day jobs for the current business date and advance it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=1, help="how many days to close")

    def handle(self, *args: Any, **options: Any) -> None:
        for _ in range(options["days"]):
            try:
                result = do_run_eod(progress=self.stdout.write)
            except EodFailed as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                self.style.SUCCESS(
                    f"closed {result.business_date}; business date is now "
                    f"{result.next_business_date}"
                )
            )
