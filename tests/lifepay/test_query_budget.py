"""Statement budgets of the lifepay hot paths (bench/lifepay.py): one bill payment, and an
auto-pay run whose statements must not grow with the number of mandates (chunked batches)."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rongshu.kernel import clock
from rongshu.kernel.money import Money
from rongshu.lifepay import services
from rongshu.lifepay.models import BillPayment, Mandate
from rongshu.lifepay.types import PayBillRequest
from tests.lifepay.conftest import account_for, biller, payer

pytestmark = pytest.mark.usefixtures("lifepay_world")


def _show(captured: CaptureQueriesContext, label: str) -> None:
    if os.environ.get("RONGSHU_SHOW_QUERIES"):
        for q in captured.captured_queries:
            print(q["sql"][:160])
    print(f"\nstatements for {label}: {len(captured)}")


def test_a_top_up_stays_within_its_statement_budget() -> None:
    who = payer()
    b = biller(item="mobile_cm")
    pay = PayBillRequest(b.code, "13800138000", who.account.public_id, Money(10_00, "CNY"))
    services.do_pay_bill(who.principal, pay, idempotency_key="warm")
    with CaptureQueriesContext(connection) as captured:
        view = services.do_pay_bill(who.principal, pay, idempotency_key="counted")
    _show(captured, "one top-up")
    assert view.state == "paid"
    # ours: the key read, biller, debit account, payment INSERT + UPDATE, the held event's
    # single INSERT, the paid event (read-first: a late confirmation may race it); the rest is
    # the ledger (two batches), the payment rules and the simulator (was 49)
    assert len(captured) <= 46


def _mandates(count: int) -> list[Mandate]:
    day = clock.get_business_date()
    b = biller(item="water")
    who = payer(balance=100_000_00)
    assert who.principal.customer_id is not None
    return Mandate.objects.bulk_create(
        [
            Mandate(
                customer_id=who.principal.customer_id,
                biller=b,
                account_no=account_for(b, 100 + i),
                debit_account_id=who.account.public_id,
                limit_minor=10_000_00,
                due_day=day.day,
                created_at=clock.now(),
            )
            for i in range(count)
        ]
    )


def test_autopay_statements_do_not_grow_with_mandates() -> None:
    day = clock.get_business_date()
    _mandates(5)
    with CaptureQueriesContext(connection) as small:
        services.do_run_autopay(day)
    _show(small, "auto-pay of 5 mandates")
    BillPayment.objects.all().delete()
    Mandate.objects.all().update(active=False)
    _mandates(40)
    with CaptureQueriesContext(connection) as large:
        result = services.do_run_autopay(day)
    _show(large, "auto-pay of 40 mandates")
    assert sum(result.values()) == 40
    assert result.get("paid", 0) + result.get("nothing_due", 0) == 40

    # per payment only the payments rules (accounts' limit counters: 2 reads in a savepoint)
    # remain; every
    # lifepay, ledger, outbox and simulator statement is per chunk or per biller
    def ours(c: CaptureQueriesContext) -> int:
        rules = ("SAVEPOINT", "RELEASE", 'SELECT "accounts_')
        return sum(1 for q in c.captured_queries if not q["sql"].startswith(rules))

    assert ours(large) <= ours(small) + 2


@pytest.mark.skipif(not os.environ.get("RONGSHU_PROFILE"), reason="profiling aid")
def test_profile_payment_and_autopay() -> None:
    import cProfile
    import pstats

    who = payer()
    b = biller(item="mobile_cm")
    services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, "13800138000", who.account.public_id, Money(10_00, "CNY")),
        idempotency_key="warm",
    )
    prof = cProfile.Profile()
    prof.enable()
    for i in range(20):
        services.do_pay_bill(
            who.principal,
            PayBillRequest(b.code, "13800138000", who.account.public_id, Money(10_00, "CNY")),
            idempotency_key=f"p{i}",
        )
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    _mandates(400)
    prof = cProfile.Profile()
    prof.enable()
    services.do_run_autopay(clock.get_business_date())
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
