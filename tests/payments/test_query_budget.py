"""The statement budget of an internal payment (the hot path of bench/payments.py): a change
that adds round trips to every order shows up here before it shows up in the benchmark."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rongshu.kernel.models import OutboxEvent
from rongshu.payments import services
from rongshu.payments.models import LimitUsage, PaymentOrder, PaymentStateChange
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import balance, cny, make_payer

pytestmark = pytest.mark.django_db


def test_an_internal_payment_stays_within_its_statement_budget() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    req = PaymentRequest(
        payer.account.public_id, cny("1.00"), payee_ledger_account_id=payee.account.public_id
    )
    services.do_create_payment(payer.principal, req, idempotency_key="warm")  # limit rows exist
    req = PaymentRequest(
        payer.account.public_id, cny("2.00"), payee_ledger_account_id=payee.account.public_id
    )
    with CaptureQueriesContext(connection) as captured:
        view = services.do_create_payment(payer.principal, req, idempotency_key="counted")
    if os.environ.get("RONGSHU_SHOW_QUERIES"):
        for q in captured.captured_queries:
            print(q["sql"][:200])
    print(f"\nstatements for one internal payment: {len(captured)}")
    assert view.state == "settled"
    assert balance(payee.account) == 3_00
    order = PaymentOrder.objects.get(public_id=view.order_id)
    # one history row and one event: the state the order is stored in (ADR 0006, third
    # addendum)
    assert [(c.from_state, c.to_state, c.reason) for c in order.history.all()] == [
        ("", "settled", "password")
    ]
    events = OutboxEvent.objects.filter(payload__order_id=str(view.order_id))
    assert list(events.values_list("event_type", flat=True)) == ["payments.PaymentSettled"]
    assert set(LimitUsage.objects.values_list("used_minor", flat=True)) == {3_00}
    assert PaymentStateChange.objects.filter(order=order).count() == 1
    postgres = connection.vendor == "postgresql"
    if postgres:
        # ONE statement (docs/decisions/0006, second addendum): the SQL function
        # payments_internal_order (the owners' read, the order, both limit rows, the accounts
        # rule, the history, the ledger posting) and the outbox rows; BEGIN/COMMIT aside
        # (36, then 19 before docs/decisions/0006, 7, then 4 before this)
        sqls = [q["sql"] or "" for q in captured.captured_queries]
        assert len(sqls) == 1, sqls
        assert "payments_internal_order(" in sqls[0]
        return
    # elsewhere the order INSERT (no idempotency read first: the unique key refuses a
    # replay), one conditional UPDATE of both limit rows, one INSERT of the history
    # row (was 16 before the single-insert rework, 5 before docs/decisions/0006)
    ours = [q["sql"] for q in captured.captured_queries if '"payments_' in (q["sql"] or "")]
    assert len(ours) == 3, ours
    # the order's own outbox events: no de-duplication read, no savepoint
    event_reads = [
        q
        for q in captured.captured_queries
        if (q["sql"] or "").startswith('SELECT "kernel_outboxevent"')
    ]
    assert event_reads == []
    # the rest is the owners' read, the accounts rule and the ledger
    assert len(captured) <= 12
