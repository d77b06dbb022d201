"""Notifications from ledger events, preferences and quiet hours, closing with a sweep,
freeze and unfreeze with step-up, month-end e-statements, statements and CSV."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from rongshu.accounts import queries, services
from rongshu.accounts.errors import HoldsPending, InvalidState
from rongshu.accounts.handlers import notify_movements
from rongshu.accounts.jobs import do_generate_month_statements
from rongshu.accounts.models import EStatement, Notification, NotificationDelivery
from rongshu.accounts.notify import do_deliver_pending
from rongshu.accounts.types import StatementFilter
from rongshu.identity import services as identity
from rongshu.identity.errors import StepUpRequired
from rongshu.kernel import clock
from rongshu.kernel.models import OutboxEvent
from rongshu.kernel.outbox import dispatch_pending
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.ledger.types import TransferIn
from tests.accounts.builders import customer, deposit, open_type2, teller

pytestmark = pytest.mark.django_db


def test_a_deposit_becomes_one_message_even_when_the_event_is_redelivered() -> None:
    c = customer()
    account = open_type2(c)
    transfer_id = deposit(account, 123_45, reference="工资 11 月")
    notes = Notification.objects.filter(customer_id=c.principal.customer_id, kind="movement")
    assert [n.body for n in notes] == [f"····{account.account_number[-4:]} +123.45 CNY（deposit）"]
    event = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").latest("id")
    assert str(transfer_id) in event.payload["ids"]
    notify_movements(event)  # at-least-once delivery: a second call adds nothing
    assert notes.count() == 1
    overview = queries.get_overview(c.principal)
    assert overview.unread == 2  # account opened + money in
    assert services.do_mark_read(c.principal) == 2
    assert queries.get_overview(c.principal).unread == 0


def test_sms_per_preference_waits_for_the_end_of_quiet_hours() -> None:
    c = customer()
    account = open_type2(c)
    assert do_deliver_pending() == (1, 0)  # "account opened": security messages go by SMS
    now_local = clock.now().astimezone(clock.bank_zone())
    start = (now_local - dt.timedelta(hours=1)).time().replace(microsecond=0)
    end = (now_local + dt.timedelta(hours=1)).time().replace(microsecond=0)
    services.do_set_preferences(
        c.principal, sms_kinds=["movement", "security"], quiet_start=start, quiet_end=end
    )
    deposit(account, 10_00)
    delivery = NotificationDelivery.objects.get(notification__kind="movement")
    assert delivery.state == "pending"
    assert delivery.destination == c.fixture.phone
    assert delivery.send_after > clock.now() + dt.timedelta(minutes=50)
    assert do_deliver_pending() == (0, 0)
    with clock.frozen_time(delivery.send_after + dt.timedelta(seconds=1)):
        assert do_deliver_pending() == (1, 0)
        inbox = identity.read_inbox(c.fixture.phone)
    assert "+10.00 CNY" in inbox[0].text


def test_sms_sent_at_once_outside_quiet_hours() -> None:
    c = customer()
    account = open_type2(c)
    services.do_set_preferences(
        c.principal, sms_kinds=["movement"], quiet_start=None, quiet_end=None
    )
    deposit(account, 8_00)
    delivery = NotificationDelivery.objects.get(notification__kind="movement")
    assert delivery.send_after <= clock.now()
    assert do_deliver_pending() == (2, 0)  # the opening message (security) and the movement
    delivery.refresh_from_db()
    assert delivery.state == "sent"
    assert "+8.00 CNY" in identity.read_inbox(c.fixture.phone)[0].text


def test_close_sweeps_the_balance_to_the_bound_type1_of_ours() -> None:
    c = customer("周九")
    type1 = services.do_open_type1_in_person(
        teller(), c.principal.customer_id or uuid.uuid4(), verification_note="ID card checked"
    )
    type2 = services.do_open_account(
        c.principal, account_type=2, bind_bank_code="ours", bind_account_number=type1.account_number
    )
    deposit(type2, 321_00)
    services.do_close_my_account(c.principal, type2.public_id)
    type2.refresh_from_db()
    assert type2.status == "closed"
    assert ledger_queries.get_account(type2.ledger_account_id).status == "closed"
    assert ledger_queries.get_account(type2.ledger_account_id).balance == 0
    assert ledger_queries.get_account(type1.ledger_account_id).balance == 321_00
    assert [a.account_number for a in queries.get_overview(c.principal).accounts] == [
        type1.account_number
    ]


def test_close_with_a_pending_hold_is_refused_and_nothing_changes() -> None:
    c = customer()
    account = open_type2(c)
    deposit(account, 100_00)
    fees = ledger.get_chart_account("income.fees.CNY").public_id
    ledger.do_create_transfer(
        TransferIn(
            uuid.uuid4(),
            account.ledger_account_id,
            fees,
            30_00,
            "CNY",
            "card_hold",
            kind="pending",
            timeout=3600,
        )
    )
    with pytest.raises(HoldsPending):
        services.do_close_my_account(c.principal, account.public_id)
    account.refresh_from_db()
    assert account.status == "open"
    view = ledger_queries.get_account(account.ledger_account_id)
    assert (view.status, view.balance, view.available) == ("open", 100_00, 70_00)


def test_freeze_then_unfreeze_needs_step_up() -> None:
    c = customer()
    account = open_type2(c)
    services.do_freeze_my_account(c.principal, account.public_id)
    assert queries.get_account_summary(c.principal, account.public_id).status == "frozen"
    assert ledger_queries.get_account(account.ledger_account_id).status == "debit_frozen"
    with pytest.raises(StepUpRequired):
        services.do_unfreeze_my_account(c.principal, account.public_id)
    assert queries.get_account_summary(c.principal, account.public_id).status == "frozen"
    info = identity.do_start_step_up(c.principal, services.UNFREEZE_ACTION)
    code = identity.latest_code(c.fixture.phone)
    assert code is not None
    identity.do_verify_step_up(c.principal, str(info.challenge_id), code)
    services.do_unfreeze_my_account(c.principal, account.public_id)
    assert queries.get_account_summary(c.principal, account.public_id).status == "open"
    dispatch_pending()
    titles = list(Notification.objects.filter(kind="security").values_list("title", flat=True))
    assert "账户已止付 Payments out stopped" in titles
    assert "账户已恢复 Account unfrozen" in titles
    with pytest.raises(InvalidState):
        services.do_unfreeze_my_account(c.principal, account.public_id)


def test_customer_can_clear_own_freeze_after_staff_lifted_the_ledger_freeze() -> None:
    c = customer()
    account = open_type2(c)
    services.do_freeze_my_account(c.principal, account.public_id)
    ledger.do_unfreeze_account(account.ledger_account_id, actor="staff:test", reason="approved")
    assert ledger_queries.get_account(account.ledger_account_id).status == "open"
    assert queries.get_account_summary(c.principal, account.public_id).status == "frozen"
    info = identity.do_start_step_up(c.principal, services.UNFREEZE_ACTION)
    code = identity.latest_code(c.fixture.phone)
    assert code is not None
    identity.do_verify_step_up(c.principal, str(info.challenge_id), code)
    services.do_unfreeze_my_account(c.principal, account.public_id)  # no ledger error
    assert queries.get_account_summary(c.principal, account.public_id).status == "open"
    assert ledger_queries.get_account(account.ledger_account_id).status == "open"


def test_statement_search_filter_and_csv() -> None:
    c = customer()
    account = open_type2(c)
    deposit(account, 100_00, reference="工资")
    deposit(account, 25_50, reference="红包 from 小李")
    deposit(account, 7_00, reference="=HYPERLINK(evil)")
    _summary, lines, cursor = queries.get_statement_page(c.principal, account.public_id)
    assert [line.balance for line in lines] == [132_50, 125_50, 100_00]  # newest first
    assert cursor is None
    _s, first, cursor = queries.get_statement_page(c.principal, account.public_id, limit=2)
    assert [line.balance for line in first] == [132_50, 125_50]
    assert cursor is not None
    _s, rest, last = queries.get_statement_page(
        c.principal, account.public_id, after=cursor, limit=2
    )
    assert ([line.balance for line in rest], last) == ([100_00], None)
    _s, by_amount, _c = queries.get_statement_page(
        c.principal, account.public_id, flt=StatementFilter(text="25.50")
    )
    assert [line.credit for line in by_amount] == [25_50]
    _s, found, _c = queries.get_statement_page(
        c.principal, account.public_id, flt=StatementFilter(text="红包")
    )
    assert [line.credit for line in found] == [25_50]
    _s, none_out, _c = queries.get_statement_page(
        c.principal, account.public_id, flt=StatementFilter(direction="out")
    )
    assert none_out == []
    csv_text = "".join(queries.iter_statement_csv(c.principal, account.public_id))
    rows = csv_text.lstrip("\ufeff").splitlines()
    assert rows[0].startswith("date_time,direction,amount")
    assert rows[2].split(",")[1:5] == ["in", "25.50", "CNY", "125.50"]
    assert "'=HYPERLINK(evil)" in rows[3]


def test_month_end_statements_are_generated_once() -> None:
    c = customer()
    account = open_type2(c)
    deposit(account, 60_00)
    today = clock.now().astimezone(clock.bank_zone()).date()
    month_end = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    assert do_generate_month_statements(month_end) >= 1
    assert do_generate_month_statements(month_end) == 0
    row = EStatement.objects.get(account=account)
    assert (row.opening_balance, row.closing_balance) == (0, 60_00)
    listed = queries.list_estatements(c.principal, account.public_id)
    assert [s.month for s in listed] == [month_end.replace(day=1)]
    _summary, view, lines = queries.get_estatement(
        c.principal, account.public_id, view_month(listed)
    )
    assert view.closing_balance == 60_00
    assert [line.credit for line in lines] == [60_00]
    assert (
        Notification.objects.filter(kind="statement", customer_id=c.principal.customer_id).count()
        == 1
    )


def view_month(listed: list[Any]) -> dt.date:
    month: dt.date = listed[0].month
    return month


def test_other_customers_get_not_found() -> None:
    a, b = customer(), customer()
    account = open_type2(a)
    from rongshu.identity.errors import CustomerNotFound

    with pytest.raises(CustomerNotFound):
        queries.get_account_summary(b.principal, account.public_id)
    with pytest.raises(CustomerNotFound):
        services.do_close_my_account(b.principal, account.public_id)
