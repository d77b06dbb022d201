"""Auto-pay and the Type II/III limit counters: a payment whose ledger hold is refused (not
enough funds) must not keep the account's daily and yearly counters raised."""

from __future__ import annotations

import datetime as dt

import pytest

from rongshu.accounts.models import UsageCounter
from rongshu.kernel import clock
from rongshu.kernel.money import Money
from rongshu.lifepay import services, simulator
from rongshu.lifepay.models import BillPayment, Notice
from tests.accounts.builders import customer, deposit, open_type2
from tests.lifepay.conftest import account_for, biller

pytestmark = pytest.mark.usefixtures("lifepay_world")


def _two_accounts_due_same_day(code: str) -> tuple[str, str, int]:
    b = biller()
    first = account_for(b, 1)
    day = simulator.due_day(code, first)
    index = 2
    while True:
        other = account_for(b, index)
        if other != first and simulator.due_day(code, other) == day:
            return first, other, day
        index += 1


def test_refused_hold_releases_the_limit_counters() -> None:
    b = biller()
    first, second, day = _two_accounts_due_same_day(b.code)
    bill1 = services.inquire(b.code, first).bills[0].amount.minor
    bill2 = services.inquire(b.code, second).bills[0].amount.minor
    c = customer()
    account = open_type2(c)
    # enough for the first bill (and its fee) only
    deposit(account, bill1 + b.fee_minor)
    for number in (first, second):
        services.do_create_mandate(
            c.principal, b.code, number, account.ledger_account_id, Money(5_000_00, "CNY")
        )
    due = dt.date(2026, 11, day)
    clock.do_set_business_date(due)
    with clock.frozen_time(dt.datetime.combine(due, dt.time(4, 0), tzinfo=dt.UTC)):
        result = services.do_run_autopay(due)
    assert result == {"paid": 1, "failed": 1}
    paid = BillPayment.objects.get(state="paid")
    assert paid.amount_minor == bill1
    assert not BillPayment.objects.exclude(pk=paid.pk).exists()  # the refused one: no row
    assert Notice.objects.filter(kind="autopay_failed").count() == 1
    # only the held (then paid) payment counts against the Type II limits
    counters = dict(
        UsageCounter.objects.filter(account=account).values_list("period", "used_minor")
    )
    assert counters == {UsageCounter.DAY: bill1, UsageCounter.YEAR: bill1}
    assert bill2 > 0
