"""``rongshu ledger chart|expire-holds|trial-balance``: set-up and operations for the ledger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rongshu.kernel.money import format_minor
from rongshu.ledger import queries, services


class Command(BaseCommand):
    help = "Ledger set-up and operations."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        chart = sub.add_parser("chart", help="create the chart of accounts (idempotent)")
        chart.add_argument("--currency", action="append", default=None)
        sub.add_parser("expire-holds", help="release holds whose timeout has passed")
        sub.add_parser("trial-balance", help="print the trial balance; exit 1 if unbalanced")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "chart":
            with transaction.atomic():
                accounts = services.do_create_chart_of_accounts(options["currency"] or ["CNY"])
            self.stdout.write(f"{len(accounts)} chart accounts present")
        elif action == "expire-holds":
            self.stdout.write(f"{services.do_expire_holds()} holds expired")
        else:
            tb = queries.get_trial_balance()
            for row in tb.rows:
                debits = format_minor(row.debits, row.currency)
                credits = format_minor(row.credits, row.currency)
                self.stdout.write(f"{row.currency} {row.kind:<10} {debits:>22} {credits:>22}")
            if not tb.balanced:
                raise CommandError(f"the books do not balance: {tb.difference}")
            self.stdout.write("balanced")
