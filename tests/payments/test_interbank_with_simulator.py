"""Interbank orders against the real clearing simulator (not the fake): every order ends settled,
rejected or returned; balances stay consistent; reconciliation finds no unexplained break."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from rongshu.kernel import clock
from rongshu.ledger import queries as ledger_queries
from rongshu.payments import services
from rongshu.payments.clearing import process_inbound
from rongshu.payments.clearing.reconciliation import do_reconcile
from rongshu.payments.models import PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import balance, cny, make_payer
from tests.payments_clearing.conftest import QUIET, WORKDAY_10AM

pytestmark = pytest.mark.django_db
BANK = "102100099996"
PAYEES = [("6222020200001234567", "张伟"), ("6222020200007654321", "王芳")]


def _pay(payer: Any, account: str, name: str, amount: str) -> uuid.UUID:
    view = services.do_create_payment(
        payer.principal,
        PaymentRequest(
            payer.account.public_id,
            cny(amount),
            payee_account_number=account,
            payee_name=name,
            payee_bank_code=BANK,
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    return view.order_id


def _drain(until: dt.datetime) -> None:
    at = WORKDAY_10AM
    while at <= until:
        with clock.frozen_time(at):
            services.do_submit_pending()
            process_inbound()
        at += dt.timedelta(seconds=30)


@pytest.mark.parametrize(
    "faults",
    [
        {},
        {
            "duplicate_rate": 0.5,
            "out_of_order_rate": 0.5,
            "late_return_rate": 0.3,
            "timeout_rate": 0.2,
            "reject_rate": 0.2,
        },
    ],
)
def test_orders_end_settled_or_returned_and_reconcile(
    settings: Any, faults: dict[str, Any]
) -> None:
    settings.RONGSHU_CLEARING_SIMULATOR = {**QUIET, **faults}
    with clock.frozen_time(WORKDAY_10AM):
        clock.do_set_business_date(WORKDAY_10AM.date())
        payer = make_payer(balance=200_000_00)
        start = balance(payer.account)
        orders = [_pay(payer, *PAYEES[i % 2], amount=f"{100 + i}.00") for i in range(12)]
    # Late returns and timed-out answers arrive hours later (the simulator's defaults). As at
    # end of day, inbound messages are processed up to the moment of reconciliation: a return
    # the network has booked by then has also reached us.
    close = WORKDAY_10AM + dt.timedelta(hours=7)
    _drain(close)

    final = {o.state for o in PaymentOrder.objects.filter(public_id__in=orders)}
    assert final <= {"settled", "rejected", "returned"}, final
    spent = sum(
        o.amount_minor + o.fee_minor
        for o in PaymentOrder.objects.filter(public_id__in=orders, state="settled")
    )
    assert balance(payer.account) == start - spent
    assert ledger_queries.get_trial_balance("CNY").balanced
    with clock.frozen_time(close):
        process_inbound()
        report = do_reconcile("ibps", WORKDAY_10AM.date())
    assert report.clean, report.breaks
    settled = PaymentOrder.objects.filter(public_id__in=orders, state="settled").count()
    assert report.matched >= settled > 0
    if faults:  # the injected faults really produced refusals or returns
        assert final != {"settled"}
