"""The PostgreSQL fast path of a payment order (``payments.fastpath``, docs/decisions/0006
addendum) answers and writes exactly what the general path does.

Every scenario runs twice on fresh customers: once with the fast path switched off (the
general path of ``services._carry_out``, the one SQLite runs) and once with it on. Both
answers (the order view or the error's type, code and data) and everything written (the
order row, its history, its outbox events, the limit rows, the ledger balances and
transfers) are compared after replacing the customers' and orders' ids by names. Where the
fast statement must run it is checked that it did, so a path that quietly never runs cannot
pass; a broken statement (a wrong column, limit bound, history step or event) shows up as a
difference.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rongshu.kernel.errors import DomainError, RuleViolation
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import services as ledger
from rongshu.ledger.models import Transfer
from rongshu.payments import limits, services
from rongshu.payments.models import LimitUsage, PaymentOrder, PaymentStateChange
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import Payer, balance, cny, make_payer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's"),
]

FAST_MARK = 'WITH o AS (INSERT INTO "payments_paymentorder"'


def _pay(payer: Payer, payee: Payer, amount: str, key: str) -> Any:
    """One order in its own transaction: the view, or the refusal as (type, code, data)."""
    request = PaymentRequest(
        payer.account.public_id, cny(amount), payee_ledger_account_id=payee.account.public_id
    )
    try:
        with transaction.atomic():
            return services.do_create_payment(payer.principal, request, idempotency_key=key)
    except DomainError as exc:
        return (type(exc).__name__, exc.code, exc.data)


def _set_usage(payer: Payer, period: str, used: int) -> None:
    LimitUsage.objects.filter(customer_id=payer.customer_id, period=period).update(used_minor=used)


def _caps() -> limits.Limits:
    return limits.limits_for("api", limits.PASSWORD)


def _refuse_777(check: Any) -> None:
    if check.amount == cny("7.77"):
        raise RuleViolation("no", code="test_rule")


# name → (what happens before, the counted order (amount, key), fast statement expected)
Setup = Callable[[Payer, Payer], None]


def _warm(payer: Payer, payee: Payer) -> None:
    assert not isinstance(_pay(payer, payee, "1.00", "warm"), tuple)


def _warm_then(then: Setup) -> Setup:
    def setup(payer: Payer, payee: Payer) -> None:
        _warm(payer, payee)
        then(payer, payee)

    return setup


def _nothing(payer: Payer, payee: Payer) -> None:
    pass


SCENARIOS: dict[str, tuple[Setup, str, str, bool]] = {
    "limit rows there": (_warm, "2.00", "k", True),
    "first payment (no limit rows)": (_nothing, "2.00", "k", True),
    "no idempotency key": (_warm, "2.00", "", True),
    "day limit exactly reached": (
        _warm_then(lambda p, q: _set_usage(p, "day", _caps().daily - 2_00)),
        "2.00",
        "k",
        True,
    ),
    "day limit refused": (
        _warm_then(lambda p, q: _set_usage(p, "day", _caps().daily - 1_99)),
        "2.00",
        "k",
        True,
    ),
    "year limit refused": (
        _warm_then(lambda p, q: _set_usage(p, "year", _caps().yearly - 1_00)),
        "2.00",
        "k",
        True,
    ),
    "replay": (_warm_then(lambda p, q: _pay(p, q, "2.00", "k") and None), "2.00", "k", True),
    "key reused for another amount": (
        _warm_then(lambda p, q: _pay(p, q, "3.00", "k") and None),
        "2.00",
        "k",
        True,
    ),
    "insufficient funds": (_warm, "99999.00", "k", False),  # a step-up amount: general path
    "insufficient funds, small": (
        _warm_then(lambda p, q: _pay(p, q, "999.00", "drain") and None),
        "2.00",
        "k",
        True,
    ),
    "debit account frozen": (
        _warm_then(
            lambda p, q: (
                ledger.do_freeze_account(p.account.public_id, actor="t", reason="t") and None
            )
        ),
        "2.00",
        "k",
        True,
    ),
    "credit account frozen": (
        _warm_then(
            lambda p, q: (
                ledger.do_freeze_account(q.account.public_id, actor="t", reason="t") and None
            )
        ),
        "2.00",
        "k",
        True,
    ),
    "credit account debit-frozen (the ledger function hands back, the evaluator creates)": (
        _warm_then(
            lambda p, q: (
                ledger.do_freeze_account(
                    q.account.public_id, actor="t", reason="t", debits_only=True
                )
                and None
            )
        ),
        "2.00",
        "k",
        True,
    ),
    "a payment rule refuses": (_warm, "7.77", "k", True),
    "step-up amount": (_warm, "6000.00", "k", False),
}


def _names(payer: Payer, payee: Payer) -> dict[str, str]:
    names = {
        str(payer.customer_id): "<payer>",
        str(payer.account.public_id): "<payer account>",
        str(payee.customer_id): "<payee>",
        str(payee.account.public_id): "<payee account>",
        payer.principal.principal_key: "<payer principal>",
    }
    orders = PaymentOrder.objects.filter(customer_id=payer.customer_id).order_by("id")
    for n, order in enumerate(orders):
        names[str(order.public_id)] = f"<order {n}>"
        for tid in (order.settle_transfer_id, order.fee_transfer_id):
            if tid is not None:
                names[str(tid)] = f"<transfer of order {n}>"
    return names


def _named(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _named(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_named(v, names) for v in value]
    if isinstance(value, uuid.UUID):
        value = str(value)
    if isinstance(value, str):
        for raw, name in names.items():
            value = value.replace(raw, name)
    return value


def _answer(result: Any) -> Any:
    if isinstance(result, tuple):
        return result
    view = dict(result.__dict__)
    for volatile in ("created_at", "settled_at", "history"):
        view.pop(volatile)
    return view


def _written(payer: Payer, payee: Payer) -> dict[str, Any]:
    orders = list(PaymentOrder.objects.filter(customer_id=payer.customer_id).order_by("id"))
    order_rows = []
    for order in orders:
        row = {
            f.attname: getattr(order, f.attname)
            for f in PaymentOrder._meta.concrete_fields
            if f.attname not in ("id", "created_at", "updated_at", "settled_at")
        }
        row["settled_at is created_at"] = order.settled_at == order.created_at
        row["updated_at is created_at"] = order.updated_at == order.created_at
        order_rows.append(row)
    history = [
        (c.order.public_id, c.from_state, c.to_state, c.actor, c.reason, c.at == c.order.created_at)
        for c in PaymentStateChange.objects.filter(order__in=orders).order_by("id")
    ]
    events = [
        (
            e.event_type,
            e.payload,
            e.dedupe_key,
            e.state,
            e.attempts,
            e.delivered_handlers,
            e.last_error,
            e.next_attempt_at == e.created_at,
        )
        for e in OutboxEvent.objects.filter(
            payload__order_id__in=[str(o.public_id) for o in orders]
        ).order_by("id")
    ]
    usage = sorted(
        (u.channel, u.period, u.starts_on, u.currency, u.used_minor)
        for u in LimitUsage.objects.filter(customer_id=payer.customer_id)
    )
    transfers = [
        (t.transfer_id, t.amount, t.code, t.reference, t.metadata, t.kind)
        for t in Transfer.objects.filter(debit_account__public_id=payer.account.public_id)
        .exclude(code="cash_deposit")
        .order_by("id")
    ]
    return {
        "orders": order_rows,
        "history": history,
        "events": events,
        "limit usage": usage,
        "transfers": transfers,
        "balances": (balance(payer.account), balance(payee.account)),
    }


def _run(setup: Setup, amount: str, key: str, *, fast: bool) -> tuple[Any, dict[str, Any], int]:
    payer, payee = make_payer(balance=1_000_00), make_payer(name="李四", balance=0)
    original = services._fast_caps
    switch = original if fast else (lambda order: None)
    services._fast_caps = switch  # type: ignore[assignment]
    try:
        setup(payer, payee)
        with CaptureQueriesContext(connection) as captured:
            result = _pay(payer, payee, amount, key)
    finally:
        services._fast_caps = original  # type: ignore[assignment]
    fast_statements = sum(1 for q in captured.captured_queries if FAST_MARK in (q["sql"] or ""))
    names = _names(payer, payee)
    return _named(_answer(result), names), _named(_written(payer, payee), names), fast_statements


@pytest.fixture(autouse=True)
def refusing_rule() -> Any:
    services.register_payment_rule(_refuse_777)
    yield
    services._rules.remove(_refuse_777)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_fast_path_answers_and_writes_what_the_general_path_does(name: str) -> None:
    setup, amount, key, expect_fast = SCENARIOS[name]
    answer, written, used = _run(setup, amount, key, fast=False)
    assert used == 0
    fast_answer, fast_written, fast_used = _run(setup, amount, key, fast=True)
    assert fast_used == (1 if expect_fast else 0), "the fast statement did not run as expected"
    assert fast_answer == answer
    assert fast_written == written


def test_the_scenarios_cover_every_outcome_of_the_statement() -> None:
    """Guard against a table that no longer reaches the cases it names."""
    outcomes = {}
    for name, (setup, amount, key, _fast) in SCENARIOS.items():
        answer, _written, _used = _run(setup, amount, key, fast=True)
        outcomes[name] = answer if isinstance(answer, list) else answer["state"]
    assert outcomes["limit rows there"] == "settled"
    assert outcomes["first payment (no limit rows)"] == "settled"
    assert outcomes["day limit exactly reached"] == "settled"
    assert outcomes["day limit refused"][:2] == ["LimitExceeded", "limit_exceeded"]
    assert outcomes["day limit refused"][2]["limit"] == "daily"
    assert outcomes["year limit refused"][2]["limit"] == "yearly"
    assert outcomes["replay"] == "settled"
    assert outcomes["key reused for another amount"][1] == "idempotency_key_reused"
    assert outcomes["insufficient funds, small"][1] == "insufficient_funds"
    assert outcomes["debit account frozen"][0] == "PaymentRefused"
    assert outcomes["credit account frozen"][0] == "PaymentRefused"
    assert outcomes["a payment rule refuses"][1] == "test_rule"
    assert outcomes["step-up amount"][1] == "step_up_required"
