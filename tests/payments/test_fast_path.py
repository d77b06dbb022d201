"""The PostgreSQL fast paths of a payment order answer and write exactly what the general
path does: the one-call order (``payments_internal_order``, docs/decisions/0006, second
addendum) and the one-statement start of the order (``payments.fastpath.start``, first
addendum), which the one-call order falls back to.

Every scenario runs three times on fresh customers: with both fast paths switched off (the
general path of ``services._carry_out``, the one SQLite runs), with only the one-statement
start, and with both (as in production). The answers (the order view or the error's type,
code and data) and everything written (the order row, its history, its outbox events and the
posting's, the limit rows, the accounts' usage counters, the ledger balances and transfers)
are compared after replacing the customers', accounts' and orders' ids by names. What each
fast path did is checked too — the one-call function's answer (done, key taken, or left to
the general path) and whether the one-statement start ran — so a path that quietly never
runs cannot pass; a broken statement (a wrong column, limit bound, history step, event,
owner check or account rule) shows up as a difference.
"""

from __future__ import annotations

import importlib
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rongshu.accounts.models import AccountHolder, CustomerAccount, UsageCounter
from rongshu.kernel import clock
from rongshu.kernel.errors import DomainError, RuleViolation
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import services as ledger
from rongshu.ledger.models import Transfer
from rongshu.payments import fastpath, limits, services
from rongshu.payments.models import LimitUsage, PaymentOrder, PaymentStateChange
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import Payer, balance, cny, make_payer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's"),
]

FAST_MARK = 'WITH o AS (INSERT INTO "payments_paymentorder"'


ONE_MARK = "payments_internal_order("


def _pay(payer: Payer, payee: Payer, amount: str, key: str, **given: Any) -> Any:
    """One order in its own transaction: the view, or the refusal as (type, code, data);
    ``given``: ``debit`` / ``to`` (ledger account ids), ``payee_name``, ``remittance_info``
    instead of the payer's and the payee's accounts and no name or remittance."""
    request = PaymentRequest(
        given.get("debit", payer.account.public_id),
        cny(amount),
        payee_ledger_account_id=given.get("to", payee.account.public_id),
        payee_name=given.get("payee_name", ""),
        remittance_info=given.get("remittance_info", ""),
    )
    try:
        with transaction.atomic():
            return services.do_create_payment(payer.principal, request, idempotency_key=key)
    except DomainError as exc:
        return (type(exc).__name__, exc.code, exc.data)


def _set_usage(payer: Payer, period: str, used: int) -> None:
    LimitUsage.objects.filter(customer_id=payer.customer_id, period=period).update(used_minor=used)


def _drop_usage(payer: Payer, period: str) -> None:
    LimitUsage.objects.filter(customer_id=payer.customer_id, period=period).delete()


def _caps() -> limits.Limits:
    return limits.limits_for("api", limits.PASSWORD)


def _refuse_777(check: Any) -> None:
    if check.amount == cny("7.77"):
        raise RuleViolation("no", code="test_rule")


# what happens before the counted order; it may answer what the order names instead of the
# payer's and the payee's accounts (see _pay)
Setup = Callable[[Payer, Payer], dict[str, Any] | None]


def _warm(payer: Payer, payee: Payer) -> None:
    assert not isinstance(_pay(payer, payee, "1.00", "warm"), tuple)


def _warm_then(then: Callable[[Payer, Payer], Any]) -> Setup:
    def setup(payer: Payer, payee: Payer) -> dict[str, Any] | None:
        _warm(payer, payee)
        given = then(payer, payee)
        return given if isinstance(given, dict) else None

    return setup


def _then_warm(first: Callable[[Payer, Payer], Any]) -> Setup:
    def setup(payer: Payer, payee: Payer) -> None:
        first(payer, payee)
        _warm(payer, payee)

    return setup


def _nothing(payer: Payer, payee: Payer) -> None:
    pass


_numbers = itertools.count(1)


def _open(who: Payer, account_type: int = 1, **fields: Any) -> CustomerAccount:
    """Make ``who``'s ledger account one of our customer accounts (accounts domain)."""
    holder, _ = AccountHolder.objects.get_or_create(
        customer_id=who.customer_id, defaults={"created_at": clock.now()}
    )
    return CustomerAccount.objects.create(
        holder=holder,
        customer_id=who.customer_id,
        ledger_account_id=who.account.public_id,
        account_number=f"62{next(_numbers):017d}",
        account_type=account_type,
        product_code="test",
        holder_name=who.name,
        opened_at=clock.now(),
        **fields,
    )


def _freeze(account_id: uuid.UUID, **how: Any) -> None:
    ledger.do_freeze_account(account_id, actor="t", reason="t", **how)


DONE, TAKEN, GENERAL = fastpath.DONE, fastpath.TAKEN, fastpath.GENERAL


@dataclass(frozen=True)
class Scenario:
    setup: Setup
    amount: str
    key: str = "k"
    # the one-statement start runs (with the one-call order off; with it on only after
    # GENERAL, or where the one-call order is not tried)
    start: bool = True
    # the one-call function's answer; None: not tried (a step-up amount, a rule without SQL)
    one_call: int | None = DONE
    rule: bool = False  # _refuse_777 registered (a rule without an SQL twin)


SCENARIOS: dict[str, Scenario] = {
    "limit rows there": Scenario(_warm, "2.00"),
    # the one-call order creates missing limit rows (ADR 0006, third addendum)
    "first payment (no limit rows)": Scenario(_nothing, "2.00"),
    "first payment of the day (the year row there)": Scenario(
        _warm_then(lambda p, q: _drop_usage(p, "day")), "2.00"
    ),
    "first payment of the year (the day row there)": Scenario(
        _warm_then(lambda p, q: _drop_usage(p, "year")), "2.00"
    ),
    "first payment of the day, year limit refused": Scenario(
        _warm_then(
            lambda p, q: (_set_usage(p, "year", _caps().yearly - 1_00), _drop_usage(p, "day"))
        ),
        "2.00",
        one_call=GENERAL,
    ),
    "first payment of the year, day limit refused": Scenario(
        _warm_then(
            lambda p, q: (_set_usage(p, "day", _caps().daily - 1_00), _drop_usage(p, "year"))
        ),
        "2.00",
        one_call=GENERAL,
    ),
    "no idempotency key": Scenario(_warm, "2.00", key=""),
    "payee's name and remittance given": Scenario(
        _warm_then(lambda p, q: {"payee_name": "李四 先生", "remittance_info": "房租"}), "2.00"
    ),
    "day limit exactly reached": Scenario(
        _warm_then(lambda p, q: _set_usage(p, "day", _caps().daily - 2_00)), "2.00"
    ),
    "day limit refused": Scenario(
        _warm_then(lambda p, q: _set_usage(p, "day", _caps().daily - 1_99)),
        "2.00",
        one_call=GENERAL,
    ),
    "year limit exactly reached": Scenario(
        _warm_then(lambda p, q: _set_usage(p, "year", _caps().yearly - 2_00)), "2.00"
    ),
    "year limit refused": Scenario(
        _warm_then(lambda p, q: _set_usage(p, "year", _caps().yearly - 1_00)),
        "2.00",
        one_call=GENERAL,
    ),
    "replay": Scenario(_warm_then(lambda p, q: _pay(p, q, "2.00", "k")), "2.00", one_call=TAKEN),
    "key reused for another amount": Scenario(
        _warm_then(lambda p, q: _pay(p, q, "3.00", "k")), "2.00", one_call=TAKEN
    ),
    "insufficient funds": Scenario(_warm, "99999.00", start=False, one_call=None),  # step-up
    "insufficient funds, small": Scenario(
        _warm_then(lambda p, q: _pay(p, q, "999.00", "drain")), "2.00", one_call=GENERAL
    ),
    "debit account frozen": Scenario(
        _warm_then(lambda p, q: _freeze(p.account.public_id)), "2.00", one_call=GENERAL
    ),
    "credit account frozen": Scenario(
        _warm_then(lambda p, q: _freeze(q.account.public_id)), "2.00", one_call=GENERAL
    ),
    "credit account debit-frozen (the ledger function hands back, the evaluator creates)": (
        Scenario(
            _warm_then(lambda p, q: _freeze(q.account.public_id, debits_only=True)),
            "2.00",
            one_call=GENERAL,
        )
    ),
    "payee is the bank's account": Scenario(
        _warm_then(lambda p, q: {"to": ledger.get_chart_account("cash.CNY").public_id}),
        "2.00",
        start=False,
        one_call=GENERAL,
    ),
    "payee is the payer's own account": Scenario(
        _warm_then(lambda p, q: {"to": p.account.public_id}),
        "2.00",
        start=False,
        one_call=None,
    ),
    "debit account is not the payer's": Scenario(
        _warm_then(lambda p, q: {"debit": q.account.public_id, "to": p.account.public_id}),
        "0.50",  # the other customer's account holds 1.00 (the warm-up): no refusal by funds
        start=False,
        one_call=GENERAL,
    ),
    "accounts: Type I to Type I": Scenario(_then_warm(lambda p, q: (_open(p), _open(q))), "2.00"),
    "accounts: payer frozen by its owner (the rule refuses)": Scenario(
        _warm_then(lambda p, q: _open(p, self_frozen=True)), "2.00", one_call=GENERAL
    ),
    "accounts: payer closed (the rule refuses)": Scenario(
        _warm_then(lambda p, q: _open(p, status=CustomerAccount.CLOSED)), "2.00", one_call=GENERAL
    ),
    "accounts: payee closed (the rule refuses)": Scenario(
        _warm_then(lambda p, q: _open(q, status=CustomerAccount.CLOSED)), "2.00", one_call=GENERAL
    ),
    "accounts: Type II payer to a stranger (usage counters)": Scenario(
        _then_warm(lambda p, q: _open(p, 2)), "2.00", one_call=GENERAL
    ),
    "accounts: Type II payer to its bound account": Scenario(
        _then_warm(lambda p, q: _open(p, 2, bound_ledger_account_id=q.account.public_id)), "2.00"
    ),
    "accounts: Type III payee (balance cap)": Scenario(
        _then_warm(lambda p, q: _open(q, 3)), "2.00", one_call=GENERAL
    ),
    "a payment rule without an SQL twin refuses": Scenario(_warm, "7.77", one_call=None, rule=True),
    "a payment rule without an SQL twin passes": Scenario(_warm, "2.00", one_call=None, rule=True),
    "step-up amount": Scenario(_warm, "6000.00", start=False, one_call=None),
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
    posted = [
        (e.event_type, e.payload, e.dedupe_key, e.state, e.next_attempt_at == e.created_at)
        for order in orders
        if order.settle_transfer_id is not None
        for e in OutboxEvent.objects.filter(
            event_type="ledger.TransfersPosted",
            payload__ids__contains=[str(order.settle_transfer_id)],
        ).order_by("id")
    ]
    counters = sorted(
        (c.account.account_type, c.period, c.period_start, c.used_minor)
        for c in UsageCounter.objects.filter(account__customer_id=payer.customer_id)
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
        "usage counters": counters,
        "posting events": posted,
        "transfers": transfers,
        "balances": (balance(payer.account), balance(payee.account)),
    }


# the three configurations: the general path only; the one-statement start; both fast paths
MODES = ("general", "start", "one call")


def _run(scenario: Scenario, mode: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The scenario on fresh customers in ``mode``: (answer, what was written, what the fast
    paths did: the one-call answers and the one-statement starts run)."""
    payer, payee = make_payer(balance=1_000_00), make_payer(name="李四", balance=0)
    fast_caps, one_call, internal_order = (
        services._fast_caps,
        services._one_call,
        fastpath.internal_order,
    )
    answers: list[int] = []

    def recording(*args: Any, **kwargs: Any) -> int:
        answer = internal_order(*args, **kwargs)
        answers.append(answer)
        return answer

    if mode == "general":
        services._fast_caps = lambda order: None  # type: ignore[assignment]
    if mode != "one call":
        services._one_call = lambda *args: None  # type: ignore[assignment]
    fastpath.internal_order = recording  # type: ignore[assignment]
    if scenario.rule:
        services.register_payment_rule(_refuse_777)
    try:
        given = scenario.setup(payer, payee) or {}
        answers.clear()
        with CaptureQueriesContext(connection) as captured:
            result = _pay(payer, payee, scenario.amount, scenario.key, **given)
    finally:
        services._fast_caps, services._one_call = fast_caps, one_call  # type: ignore[assignment]
        fastpath.internal_order = internal_order  # type: ignore[assignment]
        if scenario.rule:
            services._rules.remove(_refuse_777)
    sqls = [q["sql"] or "" for q in captured.captured_queries]
    did = {
        "one call": answers,
        "one-call statements": sum(1 for q in sqls if ONE_MARK in q),
        "starts": sum(1 for q in sqls if FAST_MARK in q),
    }
    names = _names(payer, payee)
    return _named(_answer(result), names), _named(_written(payer, payee), names), did


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_fast_paths_answer_and_write_what_the_general_path_does(name: str) -> None:
    scenario = SCENARIOS[name]
    answer, written, did = _run(scenario, "general")
    assert did == {"one call": [], "one-call statements": 0, "starts": 0}
    for mode in ("start", "one call"):
        fast_answer, fast_written, did = _run(scenario, mode)
        tried = mode == "one call" and scenario.one_call is not None
        expected = {
            "one call": [scenario.one_call] if tried else [],
            "one-call statements": 1 if tried else 0,
            # the one-statement start runs where the one-call order is not tried or left
            # the order to the general path
            "starts": int(scenario.start and (not tried or scenario.one_call == GENERAL)),
        }
        assert did == expected, f"{mode}: the fast paths did not run as expected"
        assert fast_answer == answer, mode
        assert fast_written == written, mode


def test_the_scenarios_cover_every_outcome() -> None:
    """Guard against a table that no longer reaches the cases it names."""
    outcomes = {}
    for name, scenario in SCENARIOS.items():
        answer, _written, _did = _run(scenario, "one call")
        outcomes[name] = answer if isinstance(answer, list) else answer["state"]
    for name in (
        "limit rows there",
        "first payment (no limit rows)",
        "first payment of the day (the year row there)",
        "first payment of the year (the day row there)",
        "payee's name and remittance given",
        "day limit exactly reached",
        "year limit exactly reached",
        "replay",
        "accounts: Type I to Type I",
        "accounts: Type II payer to a stranger (usage counters)",
        "accounts: Type II payer to its bound account",
        "accounts: Type III payee (balance cap)",
        "a payment rule without an SQL twin passes",
    ):
        assert outcomes[name] == "settled", name
    assert outcomes["day limit refused"][:2] == ["LimitExceeded", "limit_exceeded"]
    assert outcomes["day limit refused"][2]["limit"] == "daily"
    assert outcomes["year limit refused"][2]["limit"] == "yearly"
    assert outcomes["first payment of the day, year limit refused"][2]["limit"] == "yearly"
    assert outcomes["first payment of the year, day limit refused"][2]["limit"] == "daily"
    assert outcomes["key reused for another amount"][1] == "idempotency_key_reused"
    assert outcomes["insufficient funds, small"][1] == "insufficient_funds"
    assert outcomes["debit account frozen"][0] == "PaymentRefused"
    assert outcomes["credit account frozen"][0] == "PaymentRefused"
    assert outcomes["payee is the bank's account"][0] == "PayeeUnknown"
    assert outcomes["payee is the payer's own account"][1] == "same_account"
    assert outcomes["debit account is not the payer's"][0] == "DebitAccountInvalid"
    assert outcomes["accounts: payer frozen by its owner (the rule refuses)"][0] == (
        "AccountFrozenByCustomer"
    )
    assert outcomes["accounts: payer closed (the rule refuses)"][0] == "AccountClosed"
    assert outcomes["accounts: payee closed (the rule refuses)"][0] == "AccountClosed"
    assert outcomes["a payment rule without an SQL twin refuses"][1] == "test_rule"
    assert outcomes["step-up amount"][1] == "step_up_required"


def test_the_one_call_order_inserts_every_column_of_the_order() -> None:
    """payments_internal_order names the order's columns (migration 0004): a new column of
    PaymentOrder needs a new version of the function."""
    migration = importlib.import_module("rongshu.payments.migrations.0004_payments_internal_order")
    columns = [str(f.column) for f in PaymentOrder._meta.concrete_fields if not f.primary_key]
    assert sorted(migration.ORDER_COLUMNS.split(", ")) == sorted(columns)


def test_the_one_call_order_runs_only_with_the_rules_its_function_calls() -> None:
    """The accounts domain registers its rule with its SQL twin; any other rule (or none)
    keeps the one-call order off."""
    names = tuple(services._rules_in_sql.get(rule) for rule in services._rules)
    assert names == services.ONE_CALL_RULES
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    _warm(payer, payee)
    for rules in ([], [*services._rules, _refuse_777]):
        saved = list(services._rules)
        services._rules[:] = rules
        try:
            with CaptureQueriesContext(connection) as captured:
                assert not isinstance(_pay(payer, payee, "2.00", f"k{len(rules)}"), tuple)
        finally:
            services._rules[:] = saved
        assert not any(ONE_MARK in (q["sql"] or "") for q in captured.captured_queries)
