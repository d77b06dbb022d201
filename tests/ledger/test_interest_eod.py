"""Interest accrual and quarterly settlement through end of day; hold expiry and snapshots."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from rongshu.kernel import clock
from rongshu.kernel.eod import do_run_eod, list_eod_jobs
from rongshu.ledger import services
from rongshu.ledger.interest import (
    do_accrue_interest,
    do_set_interest_rate,
    do_settle_interest,
    is_settlement_date,
)
from rongshu.ledger.models import BalanceSnapshot, Hold, InterestAccrual, Transfer
from rongshu.ledger.types import TransferIn
from tests.ledger.conftest import fresh, make_account

pytestmark = pytest.mark.django_db


def test_jobs_are_registered() -> None:
    jobs = list_eod_jobs()
    for name in (
        "ledger.expire_holds",
        "ledger.snapshot_balances",
        "ledger.accrue_interest",
        "ledger.settle_interest",
    ):
        assert name in jobs
    assert jobs.index("ledger.snapshot_balances") < jobs.index("ledger.accrue_interest")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 3, 20), True),
        (dt.date(2026, 6, 20), True),
        (dt.date(2026, 12, 20), True),
        (dt.date(2026, 4, 20), False),
        (dt.date(2026, 3, 21), False),
    ],
)
def test_settlement_dates(day: dt.date, expected: bool) -> None:
    assert is_settlement_date(day) is expected


def test_quarter_with_a_mid_period_rate_change() -> None:
    services.do_create_chart_of_accounts()
    cash = services.get_chart_account("cash.CNY")
    capital = services.get_chart_account("equity.capital.CNY")
    expense = services.get_chart_account("expense.interest.CNY")
    saver = make_account(product_code="demand_deposit")
    do_set_interest_rate(
        product_code="demand_deposit",
        currency="CNY",
        annual_rate=Decimal("0.0035"),
        effective_on=dt.date(2026, 1, 1),
    )
    do_set_interest_rate(
        product_code="demand_deposit",
        currency="CNY",
        annual_rate=Decimal("0.0020"),
        effective_on=dt.date(2026, 5, 1),
    )
    # 1,000,000.00 yuan deposited in cash before the quarter opens
    services.do_create_transfers(
        [
            TransferIn(
                uuid.uuid4(), cash.public_id, capital.public_id, 100_000_000, "CNY", "capital"
            ),
            TransferIn(
                uuid.uuid4(), cash.public_id, saver.public_id, 100_000_000, "CNY", "deposit"
            ),
        ]
    )
    clock.do_set_business_date(dt.date(2026, 3, 21))
    while clock.get_business_date() <= dt.date(2026, 6, 20):
        do_run_eod()
    # 41 days at 0.35 % (21 Mar – 30 Apr) and 51 days at 0.20 % (1 May – 20 Jun), actual/360:
    # 100,000,000 × (41 × 0.0035 + 51 × 0.0020) / 360 = 68,194.44… fen → 681.94 yuan (half up)
    assert InterestAccrual.objects.filter(account=saver).count() == 92
    assert fresh(saver).credits_posted == 100_000_000 + 68_194
    assert fresh(expense).debits_posted == 68_194
    settlement = Transfer.objects.get(code="interest", credit_account=saver)
    assert settlement.debit_account_id == expense.pk
    assert Decimal(settlement.metadata["accrued_exact"]).quantize(Decimal("0.01")) == Decimal(
        "68194.44"
    )
    assert not InterestAccrual.objects.filter(account=saver, settled_by__isnull=True).exists()
    # snapshots were taken each day; a rerun of the settlement moves nothing
    assert BalanceSnapshot.objects.filter(account=saver).count() == 92
    assert do_settle_interest(dt.date(2026, 6, 20)) == {"settled": 0}
    assert fresh(saver).credits_posted == 100_000_000 + 68_194
    # the next day accrues on the new balance, interest included
    assert do_accrue_interest(dt.date(2026, 6, 21)) == {"accrued": 1}
    next_day = InterestAccrual.objects.get(account=saver, business_date=dt.date(2026, 6, 21))
    assert next_day.balance == 100_068_194


def test_no_interest_without_a_rate_or_on_zero_balance() -> None:
    make_account(product_code="demand_deposit")
    assert do_accrue_interest(dt.date(2026, 1, 5)) == {"accrued": 0}
    do_set_interest_rate(
        product_code="demand_deposit",
        currency="CNY",
        annual_rate=Decimal("0.0035"),
        effective_on=dt.date(2026, 1, 1),
    )
    assert do_accrue_interest(dt.date(2026, 1, 5)) == {"accrued": 0}  # zero balance


def test_eod_expires_timed_out_holds() -> None:
    bank = make_account(kind="asset", owner_type="bank", debits_must_not_exceed_credits=False)
    a, m = make_account(), make_account()
    hold_id = uuid.uuid4()
    start = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    with clock.frozen_time(start):
        results = services.do_create_transfers(
            [
                TransferIn(uuid.uuid4(), bank.public_id, a.public_id, 500, "CNY", "fund"),
                TransferIn(
                    hold_id,
                    a.public_id,
                    m.public_id,
                    200,
                    "CNY",
                    "hold",
                    kind="pending",
                    timeout=3600,
                ),
            ]
        )
        assert [r.result for r in results] == ["created", "created"]
    with clock.frozen_time(start + dt.timedelta(hours=2)):
        do_run_eod()
    assert Hold.objects.get(transfer_id=hold_id).state == Hold.EXPIRED
    assert fresh(a).debits_pending == 0 and fresh(a).available_balance == 500
