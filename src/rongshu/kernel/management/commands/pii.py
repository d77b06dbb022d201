from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rongshu.kernel.pii import rotate_all


class Command(BaseCommand):
    help = "PII tools: `rongshu pii rotate` re-encrypts every encrypted field with the first key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rotate"])

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"re-encrypted {rotate_all()} values")
