"""``rongshu clearing process|reconcile|down|up``: operate the interbank clearing adapter."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rongshu.kernel import clock
from rongshu.kernel.errors import DomainError
from rongshu.payments.clearing.network import process_inbound
from rongshu.payments.clearing.profiles import PROFILES
from rongshu.payments.clearing.reconciliation import do_reconcile
from rongshu.payments.clearing.simulator import do_set_network_down


class Command(BaseCommand):
    help = "Interbank clearing: drain inbound messages, reconcile, switch simulated networks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("process", help="deliver every due inbound status and return message")
        rec = sub.add_parser("reconcile", help="reconcile settlement accounts with statements")
        rec.add_argument("--network", choices=sorted(PROFILES), action="append", default=None)
        rec.add_argument("--date", help="YYYY-MM-DD (default: the current business date)")
        rec.add_argument("--currency", default="CNY")
        for name in ("down", "up"):
            switch = sub.add_parser(name, help=f"mark a simulated network {name}")
            switch.add_argument("network", choices=sorted(PROFILES))

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "process":
            self.stdout.write(f"{process_inbound()} inbound messages processed")
        elif action in ("down", "up"):
            with transaction.atomic():
                do_set_network_down(options["network"], action == "down")
            self.stdout.write(f"{options['network']} is {action}")
        else:
            self._reconcile(options)

    def _reconcile(self, options: dict[str, Any]) -> None:
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date {options['date']!r} is not YYYY-MM-DD") from exc
        else:
            day = clock.get_business_date()
        breaks = 0
        for name in options["network"] or sorted(PROFILES):
            try:
                report = do_reconcile(name, day, options["currency"])
            except DomainError as exc:
                raise CommandError(f"{name}: {exc}") from exc
            self.stdout.write(
                f"{name} {day}: {report.matched} matched, {len(report.breaks)} breaks "
                f"(ours {report.ours_count}, theirs {report.theirs_count})"
            )
            for b in report.breaks:
                ours = "-" if b.ours is None else b.ours.amount_str()
                theirs = "-" if b.theirs is None else b.theirs.amount_str()
                self.stdout.write(
                    f"  {b.kind:<16} {b.direction} {b.end_to_end_id or '(no reference)'} "
                    f"ours {ours} theirs {theirs}"
                )
            breaks += len(report.breaks)
        if breaks:
            raise CommandError(f"{breaks} reconciliation breaks")
