from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rongshu.kernel.audit import verify_chain


class Command(BaseCommand):
    help = "Audit log tools: `rongshu audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at entry #{report.first_bad_seq}: {report.reason} "
                f"({report.entries} entries verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {report.entries} entries"))
