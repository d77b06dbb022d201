"""The ledger's end-of-day jobs (run by ``rongshu eod`` for the closing business date)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rongshu.kernel.eod import eod_job
from rongshu.ledger.models import Account, BalanceSnapshot


@eod_job("ledger.expire_holds", order=10)
def expire_holds(business_date: dt.date) -> dict[str, Any]:
    from rongshu.ledger.services import do_expire_holds

    return {"expired": do_expire_holds()}


def do_snapshot_balances(business_date: dt.date) -> int:
    """Record every account's balances for ``business_date`` (idempotent)."""
    done = set(
        BalanceSnapshot.objects.filter(business_date=business_date).values_list(
            "account_id", flat=True
        )
    )
    rows = [
        BalanceSnapshot(
            account_id=pk,
            business_date=business_date,
            debits_posted=dpo,
            credits_posted=cpo,
            debits_pending=dp,
            credits_pending=cp,
        )
        for pk, dpo, cpo, dp, cp in Account.objects.values_list(
            "pk", "debits_posted", "credits_posted", "debits_pending", "credits_pending"
        ).iterator(chunk_size=5000)
        if pk not in done
    ]
    BalanceSnapshot.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@eod_job("ledger.snapshot_balances", order=20)
def snapshot_balances(business_date: dt.date) -> dict[str, Any]:
    return {"snapshots": do_snapshot_balances(business_date)}


@eod_job("ledger.accrue_interest", order=30)
def accrue_interest(business_date: dt.date) -> dict[str, Any]:
    from rongshu.ledger.interest import do_accrue_interest

    return do_accrue_interest(business_date)


@eod_job("ledger.settle_interest", order=40)
def settle_interest(business_date: dt.date) -> dict[str, Any]:
    from rongshu.ledger.interest import do_settle_interest

    return do_settle_interest(business_date)
