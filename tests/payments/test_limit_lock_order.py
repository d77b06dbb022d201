"""PostgreSQL: a customer's day and year limit rows are locked day first, then year, by every
statement that changes both — whatever their places in the table.

One ``UPDATE`` of both rows locks them in the order its scan meets them, which is the rows'
physical order; once an update has moved one row past the other, two payments of the same
customer can each hold one row and wait for the other: a deadlock, one payment failing with
a database error (seen with 8 clients paying from one customer: docs/decisions/0006, ninth
addendum). Here the day row is put physically after the year row, another transaction holds
the year row, and the change under test runs in a thread: it must have locked the day row
before it waits for the year row. A rejection or a return gives usage back before it posts
to the ledger, as a new order takes usage before it posts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction

from rongshu.kernel import clock
from rongshu.kernel.money import Money
from rongshu.ledger.models import Account
from rongshu.payments import fastpath, limits, services
from rongshu.payments.models import LimitUsage, PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import FakeClearing, Payer, cny, make_payer
from tests.payments.test_orders import _interbank

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL"),
]


def _pay(payer: Payer, payee: Payer) -> None:
    services.do_create_payment(
        payer.principal,
        PaymentRequest(
            payer.account.public_id, cny("1.00"), payee_ledger_account_id=payee.account.public_id
        ),
    )


def _one_call(payer: Payer, payee: Payer) -> None:
    _pay(payer, payee)


def _general_path(payer: Payer, payee: Payer) -> None:
    """The order without the one-call function: ``fastpath.start`` raises the rows."""
    original = fastpath.internal_order
    fastpath.internal_order = lambda *args, **kwargs: fastpath.GENERAL  # type: ignore[assignment]
    try:
        _pay(payer, payee)
    finally:
        fastpath.internal_order = original


def _consume(payer: Payer, payee: Payer) -> None:
    with transaction.atomic():
        limits.do_consume_limits(
            payer.customer_id, "api", limits.PASSWORD, Money(100, "CNY"), clock.local_today()
        )


def _release(payer: Payer, payee: Payer) -> None:
    with transaction.atomic():
        limits.do_release_limits(payer.customer_id, "api", Money(100, "CNY"), clock.local_today())


def _day_row_after_year_row(payer: Payer) -> None:
    """Write the day row again, so that it lies after the year row in the table."""
    table = LimitUsage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH d AS (DELETE FROM {table} WHERE customer_id = %s AND period = 'day' "
            "RETURNING customer_id, channel, period, starts_on, currency, used_minor) "
            f"INSERT INTO {table} (customer_id, channel, period, starts_on, currency, used_minor) "
            "SELECT * FROM d",
            [payer.customer_id],
        )
        cursor.execute(
            f"SELECT period FROM {table} WHERE customer_id = %s ORDER BY ctid",
            [payer.customer_id],
        )
        assert [row[0] for row in cursor.fetchall()] == ["year", "day"]


@pytest.mark.parametrize("index_scans", [True, False])
@pytest.mark.parametrize("change", [_one_call, _general_path, _consume, _release])
def test_day_row_locked_before_year_row(
    change: Callable[[Payer, Payer], None], index_scans: bool
) -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    _pay(payer, payee)  # the limit rows exist
    _day_row_after_year_row(payer)
    table = LimitUsage._meta.db_table

    def run() -> None:
        if not index_scans:  # the planner's other choices scan the rows in table order
            with connection.cursor() as cursor:
                cursor.execute("SET enable_indexscan = off")
        change(payer, payee)

    _day_row_held_while_waiting(
        payer,
        f"SELECT 1 FROM {table} WHERE customer_id = %s AND period = 'year' FOR UPDATE",
        [payer.customer_id],
        run,
    )


@pytest.mark.parametrize("outcome", ["rejected", "returned"])
def test_a_failed_payment_gives_usage_back_before_it_touches_the_ledger(
    clearing: FakeClearing, outcome: str
) -> None:
    """The limit rows, then the ledger accounts — a new order's order — also when a rejection
    or a return gives an interbank payment's usage back: else it could hold the payer's
    account and wait for a limit row a new order of the same customer holds, which waits for
    the account."""
    payer = make_payer()
    view = _interbank(payer)
    services.do_submit_order(view.order_id)
    clearing.push(str(view.order_id), outcome, "AC04" if outcome == "returned" else "AM04")
    _day_row_held_while_waiting(
        payer,
        f"SELECT 1 FROM {Account._meta.db_table} WHERE public_id = %s FOR UPDATE",
        [payer.account.public_id],
        clearing.process_inbound,
    )
    assert PaymentOrder.objects.get(public_id=view.order_id).state == outcome
    assert limits.used_today(payer.customer_id, "api", clock.local_today()) == 0


def _day_row_held_while_waiting(
    payer: Payer, hold: str, params: list[Any], change: Callable[[], Any]
) -> None:
    """Another transaction runs ``hold`` (a row lock); ``change`` runs in a thread until it
    waits for that lock: by then it must hold the payer's day limit row."""
    dsn = connection.get_connection_params()
    table = LimitUsage._meta.db_table
    errors: list[BaseException] = []

    def run() -> None:
        try:
            change()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    holder: Any = psycopg.connect(**dsn)
    try:
        holder.execute(hold, params)
        thread = threading.Thread(target=run)
        thread.start()
        _wait_until_blocked(holder, thread)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            holder.execute(
                f"SELECT 1 FROM {table} WHERE customer_id = %s AND period = 'day' "
                "FOR UPDATE NOWAIT",
                [payer.customer_id],
            )
    finally:
        holder.rollback()
        holder.close()
    thread.join(30)
    assert not thread.is_alive()
    assert errors == []


def _wait_until_blocked(holder: Any, thread: threading.Thread) -> None:
    """Until a backend of this database waits for a lock held by ``holder``'s."""
    pid = holder.info.backend_pid
    for _ in range(200):
        assert thread.is_alive()
        waiting = holder.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND %s = ANY (pg_blocking_pids(pid))",
            [pid],
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the change never waited for the held row")
