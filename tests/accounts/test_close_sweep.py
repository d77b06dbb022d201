"""Closing a Type II/III account bound to another bank's account: the balance leaves as an
interbank payment order through the clearing simulator (no fee, outside the limits), and the
account is ``closing`` until the network answers — settled → closed; rejected or returned →
open again with its money, or, for a return after the close, the bank's suspense account."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rongshu.accounts import queries, services
from rongshu.accounts.errors import InvalidState
from rongshu.accounts.models import CustomerAccount, Notification, UsageCounter
from rongshu.accounts.verifier import do_register_external_account
from rongshu.identity.errors import StepUpRequired
from rongshu.kernel import clock
from rongshu.kernel.outbox import dispatch_pending
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.payments import services as payments
from rongshu.payments.clearing import process_inbound
from rongshu.payments.clearing.reconciliation import do_reconcile
from rongshu.payments.models import LimitUsage, PaymentOrder
from tests.accounts.builders import Customer, customer, deposit, open_type2
from tests.payments_clearing.conftest import QUIET, WORKDAY_10AM

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet_network(settings: Any) -> None:
    settings.RONGSHU_CLEARING_SIMULATOR = dict(QUIET)


def _closing(c: Customer, minor: int = 50_00) -> tuple[CustomerAccount, PaymentOrder]:
    """An account with ``minor`` in it, asked to close at 10:00 on a working day."""
    account = open_type2(c)
    deposit(account, minor)
    with clock.frozen_time(WORKDAY_10AM):
        closing = services.do_close_my_account(c.principal, account.public_id)
    assert closing.status == CustomerAccount.CLOSING
    order = PaymentOrder.objects.get(public_id=closing.closing_order_id)
    return closing, order


def _network_answers(hours: float = 1) -> None:
    """The scheduler's steps (submit held orders, read the network's messages) every 30 s
    for ``hours``, each followed by the outbox's deliveries (twice: those of what the
    handlers did), as the courier delivers after each commit."""
    at = WORKDAY_10AM
    while at <= WORKDAY_10AM + dt.timedelta(hours=hours):
        with clock.frozen_time(at):
            payments.do_submit_pending()
            process_inbound()
            dispatch_pending()
            dispatch_pending()
        at += dt.timedelta(seconds=30)


def test_the_balance_reaches_the_bound_bank_before_the_account_closes() -> None:
    c = customer()
    account, order = _closing(c)
    assert (order.rail, order.state, order.amount_minor, order.fee_minor) == (
        "interbank",
        "funds_held",
        50_00,
        0,
    )
    # routed to the bound bank's head office (the binding keeps the bank type code 105)
    assert (order.creditor_bank_code, order.creditor_account_number) == (
        "105100000017",
        account.bound_account_number,
    )
    assert order.creditor_name == c.name
    # the ledger account stays open meanwhile; the whole balance is held for the network
    view = ledger_queries.get_account(account.ledger_account_id)
    assert (view.status, view.balance, view.available) == ("open", 50_00, 0)
    assert queries.get_account_summary(c.principal, account.public_id).status == "closing"
    assert [a.account_id for a in queries.get_overview(c.principal).accounts] == [account.public_id]
    with pytest.raises(InvalidState):  # asked twice
        services.do_close_my_account(c.principal, account.public_id)
    # outside the limits: no channel usage, no Type II counter
    assert not LimitUsage.objects.filter(customer_id=c.principal.customer_id).exists()
    assert not UsageCounter.objects.filter(account=account).exists()

    _network_answers()
    order.refresh_from_db()
    account.refresh_from_db()
    assert order.state == "settled"
    assert (account.status, account.closed_at is not None) == ("closed", True)
    view = ledger_queries.get_account(account.ledger_account_id)
    assert (view.status, view.balance) == ("closed", 0)
    titles = Notification.objects.filter(customer_id=c.principal.customer_id).values_list(
        "title", flat=True
    )
    assert "账户已销户 Account closed" in titles
    # the money left through the network: our settlement account matches its statement
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(hours=1)):
        report = do_reconcile("ibps", WORKDAY_10AM.date())
    assert report.clean, report.breaks
    assert report.matched == 1
    assert ledger_queries.get_trial_balance("CNY").balanced


def test_a_refused_sweep_opens_the_account_again_with_its_money() -> None:
    c = customer()
    account = open_type2(c)
    deposit(account, 80_00)
    # the bound account has closed at the other bank since the binding
    do_register_external_account("105", account.bound_account_number, c.name, status="closed")
    with clock.frozen_time(WORKDAY_10AM):
        services.do_close_my_account(c.principal, account.public_id)
    _network_answers()
    account.refresh_from_db()
    assert (account.status, account.closing_order_id) == ("open", None)
    order = PaymentOrder.objects.get(debit_account_id=account.ledger_account_id)
    assert (order.state, order.reason_code) == ("rejected", "AC04")
    view = ledger_queries.get_account(account.ledger_account_id)
    assert (view.status, view.balance, view.available) == ("open", 80_00, 80_00)
    titles = Notification.objects.filter(customer_id=c.principal.customer_id).values_list(
        "title", flat=True
    )
    assert "销户未完成：转账被退回 Account not closed: the transfer came back" in titles
    # the customer can try again once the binding is sorted out
    do_register_external_account("105", account.bound_account_number, c.name)
    with clock.frozen_time(WORKDAY_10AM):
        again = services.do_close_my_account(c.principal, account.public_id)
    assert again.status == "closing" and again.closing_order_id != order.public_id


def test_a_return_after_the_close_goes_to_the_banks_suspense_account(settings: Any) -> None:
    settings.RONGSHU_CLEARING_SIMULATOR = {**QUIET, "late_return_rate": 1.0}
    c = customer()
    account, order = _closing(c, 30_00)
    suspense = ledger.get_chart_account("suspense.CNY").public_id
    before = ledger_queries.get_account(suspense).balance
    _network_answers(hours=8)  # the simulator's late returns come hours after the settlement
    order.refresh_from_db()
    account.refresh_from_db()
    assert order.state == "returned"
    assert account.status == "closed"  # closed at the settlement, before the return
    assert ledger_queries.get_account(account.ledger_account_id).balance == 0
    # the money is the bank's to pay out (staff see the returned order)
    assert ledger_queries.get_account(suspense).balance == before + 30_00
    assert ledger_queries.get_trial_balance("CNY").balanced


def test_money_that_arrives_while_closing_keeps_the_account_open() -> None:
    c = customer()
    account, _order = _closing(c, 20_00)
    deposit(account, 5_00)  # a credit the bank books meanwhile
    _network_answers()
    account.refresh_from_db()
    assert (account.status, account.closing_order_id) == ("open", None)
    assert ledger_queries.get_account(account.ledger_account_id).balance == 5_00
    titles = Notification.objects.filter(customer_id=c.principal.customer_id).values_list(
        "title", flat=True
    )
    assert (
        "销户未完成：销户期间有资金入账 Account not closed: money arrived while closing" in titles
    )


def test_a_sweep_above_the_step_up_threshold_needs_the_payments_step_up(settings: Any) -> None:
    settings.RONGSHU_PAYMENT_STEP_UP_MINOR = 10_00
    c = customer()
    account = open_type2(c)
    deposit(account, 50_00)
    with pytest.raises(StepUpRequired):
        services.do_close_my_account(c.principal, account.public_id)
    account.refresh_from_db()
    assert (account.status, account.closing_order_id) == ("open", None)
    assert not PaymentOrder.objects.filter(debit_account_id=account.ledger_account_id).exists()
