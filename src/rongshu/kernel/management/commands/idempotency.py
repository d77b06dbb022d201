from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rongshu.kernel.idempotency import purge_idempotency_records


class Command(BaseCommand):
    help = "Idempotency-Key records: `rongshu idempotency purge` deletes those past retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["purge"])

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"purged {purge_idempotency_records()} idempotency records")
