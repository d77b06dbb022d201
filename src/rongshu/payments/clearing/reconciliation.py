"""End-of-day reconciliation of our settlement account against the network's statement.

Ours: the posted movements of the network's settlement account in the ledger chart
(``settlement.ibps.CNY`` …) created on the business date (Asia/Shanghai day). A credit to the
settlement account (an asset) is money that left us — the network's DBIT; a debit is money
that came back (a return) — the network's CRDT. The ledger transfer's ``reference`` carries
the end-to-end id (the convention payment orders follow).

Theirs: the booked entries of the network's camt.053 for the date, by end-to-end id.

Both sides are summed per (end-to-end id, direction) and compared: present on one side only →
``ours_only`` / ``theirs_only``; on both with different amounts → ``amount_mismatch``. The run
and its breaks are stored (one run per network, date and currency; a rerun replaces it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction

from rongshu.kernel import clock
from rongshu.kernel.eod import eod_job
from rongshu.kernel.money import Money
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger_services
from rongshu.payments.clearing.models import ReconciliationBreakRecord, ReconciliationRun
from rongshu.payments.clearing.network import get_network
from rongshu.payments.clearing.profiles import PROFILES
from rongshu.payments.clearing.types import (
    BreakKind,
    Direction,
    ReconciliationBreak,
    ReconciliationReport,
)

Key = tuple[str, Direction]


def _ours(account_code: str, business_date: dt.date) -> tuple[dict[Key, int], int]:
    account = ledger_services.get_chart_account(account_code)
    start = dt.datetime.combine(business_date, dt.time(), tzinfo=clock.bank_zone())
    end = start + dt.timedelta(days=1)
    sums: dict[Key, int] = defaultdict(int)
    count = 0
    for line in ledger_queries.iter_statement(account.public_id):
        if not start <= line.created_at < end:
            continue
        direction: Direction = "DBIT" if line.credit else "CRDT"
        sums[(line.reference, direction)] += line.credit or line.debit
        count += 1
    return sums, count


def _money(minor: int | None, currency: str) -> Money | None:
    return None if minor is None else Money(minor, currency)


def do_reconcile(
    network_name: str, business_date: dt.date, currency: str = "CNY"
) -> ReconciliationReport:
    network = get_network(network_name)
    statement = network.fetch_statement(business_date, currency)
    theirs: dict[Key, int] = defaultdict(int)
    theirs_count = 0
    for entry in statement.entries:
        if entry.status != "BOOK" or entry.booked_on != business_date:
            continue
        theirs[(entry.end_to_end_id, entry.direction)] += entry.amount.minor
        theirs_count += 1
    with transaction.atomic():
        ours, ours_count = _ours(network.settlement_account_code(currency), business_date)
        breaks: list[ReconciliationBreak] = []
        matched = 0
        for key in sorted(set(ours) | set(theirs)):
            mine, other = ours.get(key), theirs.get(key)
            e2e, direction = key
            if mine is not None and other is not None and mine == other:
                matched += 1
                continue
            if other is None:
                kind: BreakKind = "ours_only"
            elif mine is None:
                kind = "theirs_only"
            else:
                kind = "amount_mismatch"
            breaks.append(
                ReconciliationBreak(
                    kind, e2e, direction, _money(mine, currency), _money(other, currency)
                )
            )
        run, _ = ReconciliationRun.objects.update_or_create(
            network=network_name,
            business_date=business_date,
            currency=currency,
            defaults={
                "run_at": clock.now(),
                "statement_message_id": statement.message_id,
                "matched": matched,
                "ours_count": ours_count,
                "theirs_count": theirs_count,
                "breaks_count": len(breaks),
            },
        )
        run.breaks.all().delete()
        ReconciliationBreakRecord.objects.bulk_create(
            ReconciliationBreakRecord(
                run=run,
                kind=b.kind,
                end_to_end_id=b.end_to_end_id,
                direction=b.direction,
                ours_minor=None if b.ours is None else b.ours.minor,
                theirs_minor=None if b.theirs is None else b.theirs.minor,
                currency=currency,
            )
            for b in breaks
        )
    return ReconciliationReport(
        network=network_name,
        business_date=business_date,
        currency=currency,
        matched=matched,
        ours_count=ours_count,
        theirs_count=theirs_count,
        breaks=breaks,
    )


def list_reconciliation_runs(
    *, network: str | None = None, limit: int = 100
) -> list[ReconciliationRun]:
    qs = ReconciliationRun.objects.order_by("-business_date", "network")
    if network:
        qs = qs.filter(network=network)
    return list(qs[:limit])


def list_reconciliation_breaks(
    *, network: str | None = None, business_date: dt.date | None = None, limit: int = 500
) -> list[ReconciliationBreakRecord]:
    qs = ReconciliationBreakRecord.objects.select_related("run").order_by(
        "-run__business_date", "run__network", "pk"
    )
    if network:
        qs = qs.filter(run__network=network)
    if business_date:
        qs = qs.filter(run__business_date=business_date)
    return list(qs[:limit])


@eod_job("clearing.reconcile", order=500)
def reconcile_all(business_date: dt.date) -> dict[str, Any]:
    """Reconcile every network's CNY settlement account for the closing business date."""
    return {name: len(do_reconcile(name, business_date).breaks) for name in sorted(PROFILES)}
