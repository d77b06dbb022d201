"""Lifepay notices reach the accounts notification centre through the outbox: bill
reminders and the results of bill payments, once each."""

from __future__ import annotations

import datetime as dt

import pytest

from rongshu.accounts import queries as accounts_queries
from rongshu.kernel.outbox import dispatch_pending
from rongshu.lifepay import services, simulator
from rongshu.lifepay.types import PayBillRequest
from tests.lifepay.conftest import account_for, biller, payer

pytestmark = pytest.mark.usefixtures("lifepay_world")


def test_reminder_and_payment_reach_the_notification_centre() -> None:
    who, b = payer(), biller()
    number = account_for(b)
    services.do_save_bill_account(who.principal, b.code, number)
    due = simulator.due_day(b.code, number)
    day = dt.date(2026, 11, due) - dt.timedelta(days=services.REMIND_DAYS)
    assert services.do_send_reminders(day) == 1
    bill = services.inquire(b.code, number).bills[0]
    view = services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, number, who.account.public_id, bill.amount, bill.bill_ref),
        idempotency_key="n1",
    )
    assert view.state == "paid"
    assert services.do_send_reminders(day) == 1  # a rerun: the same dedupe key
    dispatch_pending()
    dispatch_pending()
    mine = [
        n
        for n in accounts_queries.list_notifications(who.principal, limit=100)
        if n.title.startswith("生活缴费")
    ]
    bodies = sorted(n.body for n in mine)
    assert len(bodies) == 2, bodies
    assert any(b.name_en in body and "is due on" in body for body in bodies)
    assert any("Bill payment:" in body and "(paid)" in body for body in bodies)
