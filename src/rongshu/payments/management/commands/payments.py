"""``rongshu payments process-clearing [--loop SECONDS]``: submit held interbank orders and
drain the clearing network's inbound messages (settlements, rejections, returns)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rongshu.kernel.errors import DomainError
from rongshu.payments.services import do_process_clearing


class Command(BaseCommand):
    help = "Payments operations."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("process-clearing", help="submit held orders, process inbound")
        run.add_argument("--loop", type=float, default=0.0, help="repeat every N seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = float(options.get("loop") or 0.0)
        while True:
            try:
                result = do_process_clearing()
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"submitted {result['submitted']}, inbound {result['inbound']}")
            if interval <= 0:
                return
            time.sleep(interval)
