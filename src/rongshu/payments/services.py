"""The payments domain's public write API.

Extension points other domains use (registered in their ``AppConfig.ready``):

- :func:`register_payment_rule` — a callable ``rule(check: PaymentCheck) -> None`` that raises a
  ``rongshu.kernel.errors.RuleViolation`` subclass to refuse a payment. Every rule runs inside
  the order's transaction before funds are held (e.g. the Type II/III account limits of the
  accounts domain). A rule may name its SQL twin (``sql=``), which lets the one-call internal
  order run on PostgreSQL (docs/decisions/0006, second addendum).
- :func:`register_account_resolver` — a callable ``resolve(account_number) ->
  ResolvedAccount | None`` that turns one of our account numbers into its ledger account.

Payment orders (see docs/payments.md) are checked (created, authorized) and stored in one
transaction, already ``settled`` or ``funds_held`` (then ``submitted`` and ``settled``), or
later ``rejected`` / ``returned``. Internal and QR payments are posted in the order's
transaction; interbank ones hold the funds (a ledger pending transfer to the network's
settlement account), are submitted after commit (:func:`do_submit_order`) and are posted,
voided or reversed when the network's outcome arrives (:func:`handle_clearing_outcome`).
Every ledger transfer id is derived from the order id, so a replay never moves money twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from rongshu.identity import services as identity
from rongshu.identity.types import Action, PartnerScope, Principal, PrincipalKind
from rongshu.kernel import clock, fastsql
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import DomainError, InvalidInput, PermissionDenied
from rongshu.kernel.money import Money
from rongshu.kernel.outbox import DomainEvent, record_event, record_events
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.ledger.types import FROZEN_STATUSES, AccountOwner, TransferIn, TransferResult
from rongshu.payments import dynamic_qr, fastpath, interbank, limits, qr
from rongshu.payments.errors import (
    DebitAccountInvalid,
    InsufficientFunds,
    InvalidTransition,
    LimitExceeded,
    MerchantUnknown,
    PayeeNameMismatch,
    PayeeUnknown,
    PaymentCodeInvalid,
    PaymentNotFound,
    PaymentRefused,
    RefundRefused,
)
from rongshu.payments.events import EVENTS, PaymentRefunded
from rongshu.payments.models import (
    Merchant,
    Payee,
    PaymentCode,
    PaymentOrder,
    PaymentStateChange,
    Refund,
)
from rongshu.payments.projections import merchant_view, order_view, payee_view
from rongshu.payments.types import (
    MerchantView,
    OrderView,
    PayeeView,
    PaymentCheck,
    PaymentCodeView,
    PaymentRequest,
    ResolvedAccount,
)

logger = logging.getLogger(__name__)

PaymentRule = Callable[[PaymentCheck], None]
AccountResolver = Callable[[str], ResolvedAccount | None]

_rules: list[PaymentRule] = []
_rules_in_sql: dict[PaymentRule, str] = {}  # rule → its SQL twin (see register_payment_rule)
_resolvers: list[AccountResolver] = []
# the SQL rule functions ``payments_internal_order`` (migration 0004) calls, in its order
ONE_CALL_RULES = ("accounts_payment_rule_clear",)

STEP_UP_ACTION = "payment.transfer"
# Order keys the bank makes for orders on a customer's behalf — a partner's quick-pay debit,
# a merchant's charge of a payment code, a close sweep — share the customer's key space
# (customer, key); a customer's own key may not start like them, or it could block or
# answer for one of those orders.
RESERVED_KEY_PREFIXES = ("quickpay:", "code:", "account-close:")
PAYMENT_CODE_SECONDS = 60
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0 and C1 control characters
_ORDER_NS = uuid.UUID("6a1d3c52-8f0b-4a57-9f1e-3b1f4e0c7d21")


def register_payment_rule(rule: PaymentRule, *, sql: str | None = None) -> None:
    """``sql``: the name of the rule's SQL twin (PostgreSQL), a function ``(debit ledger
    account uuid, credit ledger account uuid) -> boolean`` in the rule's own domain's
    migration that answers true only where ``rule`` certainly passes without writing, taking
    the locks ``rule`` takes. The one-call internal order (docs/decisions/0006) runs only
    while the registered rules are exactly those its SQL function calls
    (:data:`ONE_CALL_RULES`)."""
    if rule not in _rules:
        _rules.append(rule)
    if sql is not None:
        _rules_in_sql[rule] = sql


def register_account_resolver(resolver: AccountResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def check_payment_rules(check: PaymentCheck) -> None:
    """Run every registered rule; the first refusal raises."""
    for rule in list(_rules):
        rule(check)


def find_account_by_number(account_number: str) -> ResolvedAccount | None:
    for resolver in list(_resolvers):
        found = resolver(account_number)
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------ helpers
def transfer_id(order: PaymentOrder, purpose: str) -> uuid.UUID:
    """The ledger transfer id of one step of an order (stable: replays answer ``exists``)."""
    return uuid.uuid5(_ORDER_NS, f"{order.public_id}:{purpose}")


def _transition(order: PaymentOrder, to_state: str, actor: str, reason: str = "") -> None:
    now = clock.now()
    PaymentStateChange.objects.create(
        order=order, from_state=order.state, to_state=to_state, actor=actor, reason=reason, at=now
    )
    order.state = to_state
    order.updated_at = now
    if to_state == PaymentOrder.SETTLED:
        order.settled_at = now
    order.save()
    event = EVENTS.get(to_state)
    if event is not None:
        record_event(
            event(
                order_id=str(order.public_id),
                customer_id=str(order.customer_id) if order.customer_id else None,
                rail=order.rail,
                amount_minor=order.amount_minor,
                currency=order.currency,
                state=to_state,
                reason_code=order.reason_code or None,
            ),
            dedupe_key=f"payments:{order.public_id}:{to_state}",
        )


def _apply(items: list[TransferIn]) -> list[TransferResult]:
    """Create ledger transfers; a refusal raises a typed error (nothing was written)."""
    results = ledger.do_create_transfers(items)
    failed = [r.result for r in results if not r.ok and r.result != "linked_event_failed"]
    if failed:
        if failed[0] == "exceeds_credits":
            raise InsufficientFunds("The account does not have enough available funds.")
        raise PaymentRefused(f"The ledger refused the payment ({failed[0]}).", code=failed[0])
    return results


def _chain(order: PaymentOrder, steps: list[tuple[str, TransferIn]]) -> list[TransferIn]:
    """Link the steps (all or nothing)."""
    out = []
    for index, (_purpose, item) in enumerate(steps):
        linked = index < len(steps) - 1
        out.append(
            TransferIn(
                transfer_id=item.transfer_id,
                debit_account=item.debit_account,
                credit_account=item.credit_account,
                amount=item.amount,
                currency=item.currency,
                code=item.code,
                kind=item.kind,
                pending_id=item.pending_id,
                linked=linked,
                reference=item.reference,
                metadata=item.metadata,
            )
        )
    return out


def _fee_account(currency: str) -> uuid.UUID:
    return ledger.get_chart_account(f"income.fees.{currency}").public_id


def _meta(order: PaymentOrder) -> dict[str, Any]:
    return {"payment_order": str(order.public_id), "rail": order.rail}


def _owner(
    account_id: uuid.UUID, known: Mapping[uuid.UUID, AccountOwner] | None
) -> AccountOwner | None:
    """A ledger account's owner, from ``known`` (already read) or read now."""
    return (known if known is not None else ledger_queries.owners_of([account_id])).get(account_id)


def _check_debit_account(
    customer_id: uuid.UUID,
    account_id: uuid.UUID,
    currency: str,
    known: Mapping[uuid.UUID, AccountOwner] | None = None,
) -> None:
    """``known``: the accounts already read (:func:`ledger.queries.owners_of`)."""
    account = _owner(account_id, known)
    if account is None or account.owner_type != "customer" or account.owner_id != str(customer_id):
        raise DebitAccountInvalid("This account is not one of yours.")
    if account.currency != currency:
        raise DebitAccountInvalid("The account is in another currency.", code="currency_mismatch")


def _names_match(given: str, holder: str) -> bool:
    return "".join(given.split()).casefold() == "".join(holder.split()).casefold()


def _resolve_internal(
    request: PaymentRequest, known: Mapping[uuid.UUID, AccountOwner] | None = None
) -> tuple[uuid.UUID, str, str]:
    """(ledger account, account number, holder name) of one of our accounts; ``known``: the
    accounts already read."""
    if request.payee_account_number:
        found = find_account_by_number(request.payee_account_number)
        if found is None:
            raise PayeeUnknown("No account of ours has this number.")
        if not request.payee_name or not _names_match(request.payee_name, found.holder_name):
            raise PayeeNameMismatch("The name does not match the account holder.")
        if found.currency != request.amount.currency:
            raise PayeeUnknown(
                "The payee account is in another currency.", code="currency_mismatch"
            )
        return found.ledger_account_id, found.account_number, found.holder_name
    if request.payee_ledger_account_id is not None:
        account = _owner(request.payee_ledger_account_id, known)
        if account is None or account.owner_type == "bank":
            raise PayeeUnknown("No customer account has this id.")
        if account.currency != request.amount.currency:
            raise PayeeUnknown(
                "The payee account is in another currency.", code="currency_mismatch"
            )
        return account.public_id, "", request.payee_name or account.name
    raise InvalidInput("Name a payee account number or account id.", code="payee_required")


def _new_order(
    *,
    customer_id: uuid.UUID,
    request: PaymentRequest,
    rail: str,
    channel: str,
    auth_level: str,
    key: str,
    **fields: Any,
) -> PaymentOrder:
    """The order in memory (not yet saved); its ``public_id`` is already drawn, so the ledger
    transfer ids derived from it are known before anything is written. Built positionally
    (:func:`_order_in_memory`); a ``merchant`` given is cached on the order, as the keyword
    constructor does."""
    now = clock.now()
    merchant = fields.pop("merchant", None)
    order = _order_in_memory(
        customer_id=customer_id,
        idempotency_key=key,
        rail=rail,
        channel=channel,
        auth_level=auth_level,
        debit_account_id=request.debit_account_id,
        amount_minor=request.amount.minor,
        currency=request.amount.currency,
        creditor_name=request.payee_name[:140],
        creditor_account_number=request.payee_account_number[:40],
        creditor_bank_code=request.payee_bank_code[:20],
        remittance_info=request.remittance_info[:140],
        created_at=now,
        updated_at=now,
        merchant_id=merchant.pk if merchant is not None else None,
        **fields,
    )
    if merchant is not None:
        order.merchant = merchant
    return order


@functools.cache
def _order_plan() -> tuple[tuple[str, Any, bool], ...]:
    """(attribute, default, whether the default is to be called) per concrete field of
    :class:`PaymentOrder`, in the model's order."""
    return tuple(
        (f.attname, f.default, True)
        if f.has_default() and callable(f.default)
        else (f.attname, f.get_default(), False)
        for f in PaymentOrder._meta.concrete_fields
    )


@functools.cache
def _order_names() -> frozenset[str]:
    return frozenset(name for name, _default, _call in _order_plan())


def _order_in_memory(**values: Any) -> PaymentOrder:
    """``PaymentOrder(**values)`` (by attribute names), built the way the ORM builds a row
    it read — positionally, every field given — which costs a fraction of the keyword
    constructor on the hot path; the other fields get their defaults, as there."""
    assert values.keys() <= _order_names(), values.keys() - _order_names()
    return PaymentOrder(
        *[
            values[name] if name in values else (default() if call else default)
            for name, default, call in _order_plan()
        ]
    )


def _stamp(order: PaymentOrder, final_state: str) -> None:
    order.state = final_state
    order.updated_at = order.created_at
    if final_state == PaymentOrder.SETTLED:
        order.settled_at = order.created_at


def _carry_out(
    order: PaymentOrder,
    actor: str,
    check: PaymentCheck,
    final_state: str,
    transfers: list[TransferIn],
    *,
    stored: bool = False,
    started: frozenset[str] | None = None,
    day: dt.date | None = None,
    consume: bool = True,
) -> None:
    """Create ``order`` and carry it synchronously to ``final_state`` (``settled`` or
    ``funds_held``), all in the caller's transaction.

    The order row is inserted first (unless the caller ``stored`` it already), already in
    its final state: its unique idempotency key is what makes a concurrent duplicate wait
    here and then replay the winner's order, before it consumes limits or moves money. Any
    refusal after it (a limit, a payment rule, the ledger) raises and rolls the whole order
    back, so no other transaction ever sees a row whose money did not move. Then, in this
    order: limits (one conditional UPDATE), the registered payment rules, the order's
    history (one row: nothing → final, one INSERT) and its events (one INSERT; keyed
    by the new order's id, so they cannot exist already), and last the ledger transfers:
    funds move only after every rule passed, and the two accounts' rows, which other
    payments to the same payee wait for, are locked as briefly as possible (from the
    posting to the commit).

    ``started``: the periods whose limit rows the PostgreSQL fast path (:mod:`.fastpath`)
    already raised with the order's insert; with both, it wrote the history and the events
    too, and only the rules and the ledger are left (``day``: the date it used).
    ``consume=False``: the order is outside the channel's limits (a close sweep; its
    ``limits_released`` is set, so nothing is given back later either).
    """
    assert order.customer_id is not None
    now = order.created_at
    if not stored:
        _stamp(order, final_state)
        fastsql.insert([order])
    path = _path(order, final_state)
    done = started == fastpath.BOTH
    if consume and not done:
        limits.do_consume_limits(
            order.customer_id,
            order.channel,
            order.auth_level,
            Money(order.amount_minor, order.currency),
            day or _order_day(order),
            raised=started,
        )
    check_payment_rules(check)
    if not done:
        fastsql.insert(
            [
                PaymentStateChange(
                    order=order, from_state=src, to_state=dst, actor=actor, reason=why, at=now
                )
                for src, dst, why in path
            ]
        )
        record_events(_events(order, path))
    _apply(transfers)


def _path(order: PaymentOrder, final_state: str) -> list[tuple[str, str, str]]:
    """A new order's history, (from, to, reason) per step: ONE row, from nothing to the state
    it is stored in, with its authentication level as the reason. Its checks (``created``,
    ``authorized``) happen in the transaction that stores it, which no one else can see
    midway, so the history records stored states only (docs/decisions/0006, third
    addendum)."""
    return [("", final_state, order.auth_level)]


def _events(order: PaymentOrder, path: list[tuple[str, str, str]]) -> list[tuple[DomainEvent, str]]:
    """A new order's outbox events (event, dedupe key) along its history ``path``."""
    return [
        (
            event(
                order_id=str(order.public_id),
                customer_id=str(order.customer_id),
                rail=order.rail,
                amount_minor=order.amount_minor,
                currency=order.currency,
                state=dst,
                reason_code=order.reason_code or None,
            ),
            f"payments:{order.public_id}:{dst}",
        )
        for _src, dst, _why in path
        if (event := EVENTS.get(dst)) is not None
    ]


def _fast_caps(order: PaymentOrder) -> limits.Limits | None:
    """The channel's limits when the order may start on the PostgreSQL fast path
    (:mod:`.fastpath`): a password-level internal order within the per-transaction limit;
    ``None`` when the general path must store it (another database, rail or auth level, or
    an amount over that limit, which the general path refuses after the insert)."""
    if (
        connection.vendor != "postgresql"
        or order.rail != "internal"
        or order.auth_level != limits.PASSWORD
    ):
        return None
    caps = limits.limits_for(order.channel, order.auth_level)
    return caps if order.amount_minor <= caps.per_transaction else None


def _start_fast(
    order: PaymentOrder, caps: limits.Limits, actor: str, final_state: str, day: dt.date
) -> frozenset[str] | None:
    """Insert the order with its limits, history and events in one statement
    (:func:`fastpath.start`): ``None`` when its key is taken, else the periods raised."""
    path = _path(order, final_state)
    return fastpath.start(
        order,
        actor=actor,
        path=path,
        events=_events(order, path),
        caps=(caps.daily, caps.yearly),
        day=day,
    )


def _internal_transfers(order: PaymentOrder) -> list[TransferIn]:
    """The ledger transfers of an internal or QR payment (and its fee, linked); sets the
    order's fee and transfer ids."""
    assert order.creditor_account_id is not None
    amount = Money(order.amount_minor, order.currency)
    fee = limits.fee_for(order.rail, amount)
    order.fee_minor = fee.minor
    order.settle_transfer_id = transfer_id(order, "settle")
    settle = TransferIn(
        order.settle_transfer_id,
        order.debit_account_id,
        order.creditor_account_id,
        order.amount_minor,
        order.currency,
        f"payment_{order.rail}",
        reference=(order.remittance_info or order.creditor_name)[:140],
        metadata=_meta(order),
    )
    if not fee:
        return [settle]  # one step: nothing to link
    order.fee_transfer_id = transfer_id(order, "fee")
    steps = [
        ("settle", settle),
        (
            "fee",
            TransferIn(
                order.fee_transfer_id,
                order.debit_account_id,
                _fee_account(order.currency),
                fee.minor,
                order.currency,
                "payment_fee",
                reference="手续费",
                metadata=_meta(order),
            ),
        ),
    ]
    return _chain(order, steps)


def _existing(customer_id: uuid.UUID, key: str, request: PaymentRequest) -> PaymentOrder | None:
    """The order stored under ``key`` (``None``: none), if ``request`` asks for the same
    payment; another payment under the same key is refused (``idempotency_key_reused``)."""
    if not key:
        return None
    order = PaymentOrder.objects.filter(customer_id=customer_id, idempotency_key=key).first()
    if order is None:
        return None
    same = (
        order.amount_minor == request.amount.minor
        and order.currency == request.amount.currency
        and order.debit_account_id == request.debit_account_id
        # the payee too: the same key must never silently answer a payment to someone else
        and order.creditor_account_number == request.payee_account_number[:40]
        and order.creditor_bank_code == request.payee_bank_code[:20]
        and (
            request.payee_ledger_account_id is None
            or order.creditor_account_id == request.payee_ledger_account_id
        )
        and _same_payee_name(order, request)
        and _same_network(order, request)
        and order.remittance_info == request.remittance_info[:140]
    )
    if not same:
        raise PaymentRefused(
            "This key was already used for a different payment.", code="idempotency_key_reused"
        )
    return order


def _same_payee_name(order: PaymentOrder, request: PaymentRequest) -> bool:
    """Interbank: the name as it goes to the other bank, exactly. One of ours: the order
    keeps the holder's name (or the one given for a ledger account), so a name given must
    match it as the payment checked it; none given leaves it to us, as the first time."""
    if order.rail == "interbank":
        return order.creditor_name == request.payee_name[:140]
    return not request.payee_name or _names_match(request.payee_name[:140], order.creditor_name)


def _same_network(order: PaymentOrder, request: PaymentRequest) -> bool:
    """Interbank: the network asked for. The order keeps the one it went by; a request that
    leaves the choice to us (``""``) asks for the one we choose for its amount."""
    if order.rail != "interbank":
        return True
    return order.network == (request.network or interbank.choose_network("", request.amount))


# ------------------------------------------------------------------ orders
def do_create_payment(
    principal: Principal,
    request: PaymentRequest,
    *,
    channel: str = "api",
    idempotency_key: str = "",
) -> OrderView:
    """Create a customer's payment order and carry it as far as it goes synchronously:
    internal payments settle at once; interbank ones end ``funds_held`` and are submitted
    after commit (the caller schedules :func:`do_submit_order` with ``transaction.on_commit``).

    Above the step-up threshold a passed one-time-code step-up for ``payment.transfer`` is
    spent (else ``step_up_required``) — unless the amount is over the per-transaction limit
    of every authentication level, which is refused (``limit_exceeded``) before the customer
    is asked for a code it could not use. The same ``idempotency_key`` returns the same order.

    Runs in the caller's transaction without a savepoint (one when there is none): a refusal
    after the order row went in raises and the caller's transaction rolls back whole. A replay
    is not looked up first: the order row is inserted ``ON CONFLICT DO NOTHING`` and only when
    its key is taken (or the checks before it refuse) is the stored order read and answered.
    """
    _check_request(principal, request, channel)
    _check_customer_key(idempotency_key)
    if limits.needs_step_up(channel, request.amount.minor):
        _check_within_reach(principal, request, channel, idempotency_key)
    if (
        request.payee_ledger_account_id is not None
        and not request.payee_account_number
        and not request.payee_bank_code
        and connection.vendor == "postgresql"
        and tuple(_rules_in_sql.get(rule) for rule in _rules) == ONE_CALL_RULES
    ):
        view = _one_call(principal, request, channel, idempotency_key)
        if view is not None:
            return view
    return _create(principal, request, channel, idempotency_key)


def do_create_close_sweep(
    principal: Principal, request: PaymentRequest, *, channel: str, idempotency_key: str
) -> OrderView:
    """The whole balance of a closing Type II/III account to its owner's bound account at
    another bank (``accounts.services.do_close_my_account``): an interbank order like any
    other — funds held, submitted after commit (:func:`submit_after_commit`), then settled,
    rejected or returned — but without a fee and outside the channel's limits, as a transfer
    to the customer's own bound account (the accounts rule exempts it from the Type II/III
    caps too). Above the step-up threshold it needs the payment's step-up, as any payment
    does."""
    _check_request(principal, request, channel)
    if not request.payee_bank_code:
        raise InvalidInput("A sweep goes to another bank's account.", code="payee_required")
    return _create(principal, request, channel, idempotency_key, sweep=True)


def _check_request(principal: Principal, request: PaymentRequest, channel: str) -> None:
    """What every customer order is checked for before anything is read: a customer, a
    positive amount, a known channel, no control characters in its texts."""
    if principal.kind is not PrincipalKind.CUSTOMER or principal.customer_id is None:
        raise PermissionDenied("Only customers make payments.")
    if not request.amount.is_positive:
        raise InvalidInput("The amount must be greater than zero.", code="amount_must_be_positive")
    if channel not in limits.CHANNELS:
        raise InvalidInput(f"Unknown channel {channel!r}.", code="invalid_channel")
    _check_text(request)


def _check_within_reach(
    principal: Principal, request: PaymentRequest, channel: str, idempotency_key: str
) -> None:
    """An amount over the per-transaction limit of every authentication level can never pass:
    refused now, before a step-up is asked for (:func:`limits.check_within_reach`; the limits
    are still consumed atomically with the order). A replay of an order stored while the
    limits were higher still answers it."""
    assert principal.customer_id is not None
    try:
        limits.check_within_reach(channel, request.amount)
    except LimitExceeded:
        if _existing(principal.customer_id, idempotency_key, request) is None:
            raise


def _check_customer_key(key: str) -> None:
    if key.startswith(RESERVED_KEY_PREFIXES):
        raise InvalidInput(
            "This idempotency key is reserved for the bank's own orders.",
            code="idempotency_key_reserved",
        )


def _check_text(request: PaymentRequest) -> None:
    """A payee's name, account number or the remittance text with a control character can
    be neither shown nor sent (XML cannot carry it): refused at once."""
    for name in ("payee_name", "payee_account_number", "remittance_info"):
        if _CONTROL.search(getattr(request, name)):
            raise InvalidInput(
                "The text may not contain control characters.",
                code="invalid_text",
                data={"field": name},
            )


def _create(
    principal: Principal,
    request: PaymentRequest,
    channel: str,
    idempotency_key: str,
    *,
    sweep: bool = False,
) -> OrderView:
    """The general path of :func:`do_create_payment` (``sweep``: of
    :func:`do_create_close_sweep`)."""
    assert principal.customer_id is not None
    customer_id = principal.customer_id
    try:
        order, check, final_state, transfers = _prepare(
            principal, request, channel, idempotency_key, sweep=sweep
        )
    except DomainError:
        # Nothing was written yet. A replay answers its stored order even when the payment
        # could not be made again now (its payee closed meanwhile, …).
        replayed = _existing(customer_id, idempotency_key, request)
        if replayed is None:
            raise
        return order_view(replayed, history=True)
    with transaction.atomic(savepoint=False):
        _stamp(order, final_state)
        actor = principal.principal_key
        day = _order_day(order)
        caps = _fast_caps(order)
        if caps is not None:
            started = _start_fast(order, caps, actor, final_state, day)
            if started is not None:
                _carry_out(
                    order,
                    actor,
                    check,
                    final_state,
                    transfers,
                    stored=True,
                    started=started,
                    day=day,
                )
                return order_view(order, created_by=actor)
        elif fastsql.insert_new(order):
            if order.auth_level == limits.STEP_UP:  # after the insert: a replay spends nothing
                identity.require_step_up(principal, STEP_UP_ACTION)
            _carry_out(order, actor, check, final_state, transfers, stored=True, consume=not sweep)
            return order_view(order, created_by=actor)
    # The key is taken (a replay, or a concurrent twin that committed first); nothing was
    # written, so the transaction is intact for the read and for a refusal.
    replayed = _existing(customer_id, idempotency_key, request)
    if replayed is None:  # pragma: no cover - only the key can conflict
        raise PaymentRefused("The order could not be stored.", code="order_conflict")
    return order_view(replayed, history=True)


def _one_call(
    principal: Principal, request: PaymentRequest, channel: str, idempotency_key: str
) -> OrderView | None:
    """PostgreSQL: a password-level internal order to a payee named by its ledger account, in
    one database call (:func:`fastpath.internal_order`; docs/decisions/0006, second
    addendum): the owners' checks, the order row, its limits, the payment rules' SQL twins,
    its history and events and the ledger posting, all or nothing. ``None`` when it does not
    apply or the call left the order to the general path (nothing was written): the caller
    goes on as if it had not been tried."""
    assert principal.customer_id is not None
    assert request.payee_ledger_account_id is not None
    amount = request.amount.minor
    if (
        amount > limits.step_up_threshold()
        or request.payee_ledger_account_id == request.debit_account_id
    ):
        return None
    caps = limits.limits_for(channel, limits.PASSWORD)
    if amount > caps.per_transaction:
        return None
    order = _new_order(
        customer_id=principal.customer_id,
        request=request,  # an empty payee name: the function puts the account's
        rail="internal",
        channel=channel,
        auth_level=limits.PASSWORD,
        key=idempotency_key,
        creditor_account_id=request.payee_ledger_account_id,
        network="",
        debtor_name=principal.display_name[:140],
    )
    transfers = _internal_transfers(order)
    if len(transfers) != 1:
        return None  # a fee: the general path
    # the posting's reference (remittance, else the payee's name) the function derives from
    # the order it stores, as _internal_transfers does: the name may only be known there
    posting = transfers[0]
    _stamp(order, PaymentOrder.SETTLED)
    path = _path(order, PaymentOrder.SETTLED)
    actor = principal.principal_key
    # one statement: atomic by itself, in the caller's transaction or without one
    outcome = fastpath.internal_order(
        order,
        payee_name=request.payee_name,
        actor=actor,
        path=path,
        events=_events(order, path),
        caps=(caps.daily, caps.yearly),
        day=_order_day(order),
        posting=posting,
    )
    if outcome == fastpath.DONE:
        return order_view(order, created_by=actor)
    if outcome == fastpath.TAKEN:
        # a replay (or a concurrent twin that committed first); nothing was written
        replayed = _existing(principal.customer_id, idempotency_key, request)
        if replayed is not None:
            return order_view(replayed, history=True)
    return None


def _prepare(
    principal: Principal,
    request: PaymentRequest,
    channel: str,
    idempotency_key: str,
    *,
    sweep: bool = False,
) -> tuple[PaymentOrder, PaymentCheck, str, list[TransferIn]]:
    """Read and check everything an order needs (nothing is written): the order in memory,
    its payment check, its final state and its ledger transfers (``sweep``: an interbank
    close sweep, without a fee or limits; :func:`do_create_close_sweep`)."""
    assert principal.customer_id is not None
    customer_id = principal.customer_id
    interbank_payment = bool(request.payee_bank_code)
    payee_id = None if interbank_payment else request.payee_ledger_account_id
    known = ledger_queries.owners_of(
        [request.debit_account_id] + ([payee_id] if payee_id is not None else [])
    )
    _check_debit_account(customer_id, request.debit_account_id, request.amount.currency, known)
    if interbank_payment:
        interbank.clearing()  # refuse (503) now rather than hold funds nobody can submit
        network = interbank.choose_network(request.network, request.amount)
        creditor_id: uuid.UUID | None = interbank.settlement_account(
            network, request.amount.currency
        )
        if not (request.payee_account_number and request.payee_name):
            raise InvalidInput(
                "An interbank payee needs an account number and a name.", code="payee_required"
            )
    else:
        network = ""
        creditor_id, _number, holder = _resolve_internal(request, known)
        if creditor_id == request.debit_account_id:
            raise PayeeUnknown("You cannot pay an account to itself.", code="same_account")
        request = PaymentRequest(**{**request.__dict__, "payee_name": holder})
    step_up = (
        request.amount.minor > limits.step_up_threshold()  # outside the channel's caps
        if sweep
        else limits.needs_step_up(channel, request.amount.minor)
    )
    order = _new_order(
        customer_id=customer_id,
        request=request,
        rail="interbank" if interbank_payment else "internal",
        channel=channel,
        auth_level=limits.STEP_UP if step_up else limits.PASSWORD,
        key=idempotency_key,
        creditor_account_id=creditor_id,
        network=network,
        debtor_name=principal.display_name[:140],
        limits_released=sweep,  # a sweep consumes no limits: none to give back
    )
    check = PaymentCheck(
        customer_id=customer_id,
        debit_account_id=request.debit_account_id,
        amount=request.amount,
        rail=order.rail,
        counterparty_account_id=None if interbank_payment else creditor_id,
        counterparty_bank_code=request.payee_bank_code or None,
        counterparty_account_number=request.payee_account_number or None,
        at=clock.now(),
    )
    if interbank_payment:
        return order, check, PaymentOrder.HELD, _hold_transfers(order, charge_fee=not sweep)
    return order, check, PaymentOrder.SETTLED, _internal_transfers(order)


def _hold_transfers(order: PaymentOrder, *, charge_fee: bool = True) -> list[TransferIn]:
    """The pending ledger transfers that hold an interbank payment (and its fee, linked, if
    ``charge_fee``) for the network's settlement account; sets the order's fee and transfer
    ids."""
    assert order.creditor_account_id is not None
    amount = Money(order.amount_minor, order.currency)
    fee = (
        limits.fee_for("interbank", amount, order.network)
        if charge_fee
        else Money(0, order.currency)
    )
    order.fee_minor = fee.minor
    steps = [
        (
            "hold",
            TransferIn(
                transfer_id(order, "hold"),
                order.debit_account_id,
                order.creditor_account_id,
                order.amount_minor,
                order.currency,
                "payment_interbank",
                kind="pending",
                reference=interbank.end_to_end_id(order),
                metadata=_meta(order),
            ),
        )
    ]
    if fee:
        steps.append(
            (
                "fee-hold",
                TransferIn(
                    transfer_id(order, "fee-hold"),
                    order.debit_account_id,
                    _fee_account(order.currency),
                    fee.minor,
                    order.currency,
                    "payment_fee",
                    kind="pending",
                    reference="跨行手续费",
                    metadata=_meta(order),
                ),
            )
        )
        order.fee_transfer_id = transfer_id(order, "fee-hold")
    order.hold_transfer_id = transfer_id(order, "hold")
    return _chain(order, steps)


def _resolve_holds(order: PaymentOrder, kind: str) -> None:
    """Post or void the order's holds (principal and fee), linked."""
    steps = [
        (
            kind,
            TransferIn(
                transfer_id(order, kind),
                None,
                None,
                None,
                order.currency,
                "payment_interbank",
                kind=kind,
                pending_id=order.hold_transfer_id,
                reference=interbank.end_to_end_id(order),
                metadata=_meta(order),
            ),
        )
    ]
    if order.fee_transfer_id is not None:
        steps.append(
            (
                f"fee-{kind}",
                TransferIn(
                    transfer_id(order, f"fee-{kind}"),
                    None,
                    None,
                    None,
                    order.currency,
                    "payment_fee",
                    kind=kind,
                    pending_id=order.fee_transfer_id,
                    metadata=_meta(order),
                ),
            )
        )
    _apply(_chain(order, steps))
    if kind == "post":
        order.settle_transfer_id = transfer_id(order, "post")


def _order_day(order: PaymentOrder) -> dt.date:
    """The bank's calendar day the order was made on: the day (and year) whose limits it
    consumes, and gives back if it fails later — also when that is after midnight."""
    return order.created_at.astimezone(clock.bank_zone()).date()


def _reject(order: PaymentOrder, reason: str, actor: str) -> None:
    """A held order the network (or a freeze) refused for ``reason`` (its ``reason_code``):
    its usage given back, its holds voided, ``rejected``."""
    order.reason_code = reason
    _release_limits(order)
    _resolve_holds(order, "void")
    _transition(order, PaymentOrder.REJECTED, actor, order.reason_code)


def _release_limits(order: PaymentOrder) -> None:
    """Give the order's usage back — before anything touches the ledger in the same
    transaction: a new order locks its customer's limit rows, then the ledger accounts, and
    the same order here keeps the two from waiting on each other (docs/decisions/0006, ninth
    addendum; tests/payments/test_limit_lock_order.py)."""
    if order.customer_id is None or order.limits_released:
        return
    limits.do_release_limits(
        order.customer_id,
        order.channel,
        Money(order.amount_minor, order.currency),
        _order_day(order),
    )
    order.limits_released = True


def _reverse(order: PaymentOrder) -> None:
    """Give a returned interbank payment (and its fee) back to the customer — to the bank's
    suspense account (挂账) when the customer's account can no longer take it, closed since
    (as after a close sweep) or fully frozen: staff pay it out from there (docs/payments.md,
    returns)."""
    assert order.creditor_account_id is not None
    back_to = order.debit_account_id
    if ledger_queries.get_account(back_to).status in ("closed", "frozen"):
        back_to = ledger.get_chart_account(f"suspense.{order.currency}").public_id
    steps = [
        (
            "return",
            TransferIn(
                transfer_id(order, "return"),
                order.creditor_account_id,
                back_to,
                order.amount_minor,
                order.currency,
                "payment_return",
                reference=interbank.end_to_end_id(order),
                metadata=_meta(order),
            ),
        )
    ]
    if order.fee_minor:
        steps.append(
            (
                "fee-return",
                TransferIn(
                    transfer_id(order, "fee-return"),
                    _fee_account(order.currency),
                    back_to,
                    order.fee_minor,
                    order.currency,
                    "payment_fee_refund",
                    reference="退还手续费",
                    metadata=_meta(order),
                ),
            )
        )
    _apply(_chain(order, steps))
    order.reversal_transfer_id = transfer_id(order, "return")


def do_submit_order(order_id: uuid.UUID | str, *, actor: str = "system:payments") -> str:
    """Submit a ``funds_held`` interbank order to its network; returns the state after.

    Rejected synchronously → holds voided, ``rejected``. Network unavailable → stays
    ``funds_held`` (the sweep in :func:`do_submit_pending` retries with the same instruction
    id, which the network de-duplicates). Network closed (HVPS outside its hours, as the
    clearing package's calendar says, or its own ``TM01`` answer) → stays ``funds_held``
    with ``reason_code`` ``TM01`` saying why, and the sweep sends it once the network
    opens."""
    api = interbank.clearing()
    with transaction.atomic():
        order = PaymentOrder.objects.select_for_update().filter(public_id=order_id).first()
        if order is None or order.state != PaymentOrder.HELD:
            return order.state if order else "unknown"
        payer = ledger_queries.find_account(order.debit_account_id)
        if payer is not None and payer.status in FROZEN_STATUSES:
            # Frozen since the hold was placed: the money has not left, so it stays (ISO
            # AC06, blocked account). Once sent, a freeze no longer stops the posting
            # (docs/decisions/0010).
            _reject(order, "AC06", actor)
            return order.state
        now = clock.now()
        if interbank.opens_at(api, order.network, now) > now:
            _wait_for_network(order)
            return order.state
        network = api.get_network(order.network)
        try:
            network.submit(interbank.instruction_for(api, order))
        except api.ClearingRejected as exc:
            code = str(getattr(exc, "reason_code", "") or "rejected")[:60]
            if code == interbank.CUT_OFF:  # closed by the network's clock (at the boundary)
                _wait_for_network(order)
                return order.state
            _reject(order, code, actor)
            return order.state
        except api.ClearingUnavailable:
            logger.warning(
                "clearing network %s unavailable; order %s stays held",
                order.network,
                order.public_id,
            )
            return order.state
        if order.reason_code == interbank.CUT_OFF:
            order.reason_code = ""  # waited for the network's hours: no longer the case
        _transition(order, PaymentOrder.SUBMITTED, actor)
        return order.state


def _wait_for_network(order: PaymentOrder) -> None:
    """A held order whose network is closed (HVPS outside its hours) is not sent: it waits
    with its funds held, as a bank queues it for the next window, and :func:`do_submit_pending`
    sends it once the network opens. Its ``reason_code`` (``TM01``, cut-off time) says why."""
    if order.reason_code != interbank.CUT_OFF:
        order.reason_code = interbank.CUT_OFF
        order.save(update_fields=["reason_code"])
    logger.info(
        "clearing network %s closed; order %s waits for its hours", order.network, order.public_id
    )


def submit_after_commit(view: OrderView) -> None:
    """An interbank order waits with its funds held: send it to the network once the
    caller's transaction commits (a failure there is logged; :func:`do_submit_pending`
    retries it)."""
    if view.state != PaymentOrder.HELD:
        return
    order_id = view.order_id

    def submit() -> None:
        try:
            do_submit_order(order_id)
        except DomainError:
            logger.exception("submitting payment order %s failed; the sweep retries", order_id)

    transaction.on_commit(submit)


def do_submit_pending(*, older_than_seconds: int = 0) -> int:
    """Submit every interbank order still ``funds_held`` (after a crash or an outage, or
    waiting for its network's hours). The orders of a network that is closed now (HVPS
    outside its hours) are left out: they wait without a submission every few seconds, and
    do not take the batch's places from the others."""
    now = clock.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    closed = interbank.closed_networks(interbank.clearing(), now)
    if closed:  # say why they wait, also for orders no submission after commit ever tried
        PaymentOrder.objects.filter(
            state=PaymentOrder.HELD, network__in=closed, reason_code=""
        ).update(reason_code=interbank.CUT_OFF)
    ids = list(
        PaymentOrder.objects.filter(state=PaymentOrder.HELD, updated_at__lte=cutoff)
        .exclude(network__in=closed)
        .order_by("pk")
        .values_list("public_id", flat=True)[:1000]
    )
    submitted = 0
    for order_id in ids:  # one order's failure must not hold up the others
        try:
            submitted += do_submit_order(order_id) != PaymentOrder.HELD
        except Exception:
            logger.exception("submitting payment order %s failed; the next sweep retries", order_id)
    return submitted


def handle_clearing_outcome(outcome: Any) -> None:
    """The clearing network's answer for one instruction (idempotent; duplicates and
    out-of-order messages are expected): ``settled`` posts the holds, ``rejected`` voids them,
    ``returned`` reverses a posted payment (posting it first if it was still held)."""
    try:
        order_uuid = uuid.UUID(str(outcome.instruction_id))
    except ValueError:
        logger.warning("clearing outcome for unknown instruction %r", outcome.instruction_id)
        return
    actor = f"clearing:{outcome.message_id}"
    reason = str(outcome.reason_code or "")[:60]
    with transaction.atomic():
        order = PaymentOrder.objects.select_for_update().filter(public_id=order_uuid).first()
        if order is None or order.rail != "interbank":
            logger.warning("clearing outcome for unknown order %s", order_uuid)
            return
        live = order.state in (PaymentOrder.HELD, PaymentOrder.SUBMITTED)
        if outcome.status == "settled" and live:
            _resolve_holds(order, "post")
            _transition(order, PaymentOrder.SETTLED, actor)
        elif outcome.status == "rejected" and live:
            _reject(order, reason or "rejected", actor)
        elif outcome.status == "returned" and (live or order.state == PaymentOrder.SETTLED):
            _release_limits(order)  # before the ledger: see _release_limits
            if live:
                _resolve_holds(order, "post")
                _transition(order, PaymentOrder.SETTLED, actor, "implied by a return")
            order.reason_code = reason or "returned"
            _reverse(order)
            _transition(order, PaymentOrder.RETURNED, actor, order.reason_code)
        else:
            logger.info(
                "clearing outcome %s for order %s in state %s ignored (duplicate or late)",
                outcome.status,
                order.public_id,
                order.state,
            )


def do_process_clearing() -> dict[str, int]:
    """The scheduler's step: submit held orders, then drain the network's inbound messages."""
    submitted = do_submit_pending()
    processed = interbank.clearing().process_inbound()
    return {"submitted": submitted, "inbound": processed}


# ------------------------------------------------------------------ payees
def do_save_payee(
    principal: Principal,
    *,
    name: str,
    account_number: str = "",
    ledger_account_id: uuid.UUID | None = None,
    bank_code: str = "",
    nickname: str = "",
) -> PayeeView:
    """Save a payee after verifying the account name: ours through the account resolvers,
    another bank's through the clearing network's account check."""
    if principal.kind is not PrincipalKind.CUSTOMER or principal.customer_id is None:
        raise PermissionDenied("Only customers save payees.")
    name = name.strip()
    if not name:
        raise InvalidInput("A payee needs a name.", code="payee_required")
    verified = False
    if bank_code:
        if not account_number:
            raise InvalidInput("An interbank payee needs an account number.", code="payee_required")
        result = (
            interbank.clearing().get_network("ibps").verify_account(bank_code, account_number, name)
        )
        if not result.ok:
            code = str(result.reason_code or "")
            if code == "BE01":  # ISO 20022: inconsistent with the end customer (the name)
                raise PayeeNameMismatch("The name does not match the account holder.")
            raise PayeeUnknown(f"The other bank does not know this account ({code}).")
        verified = True
    elif account_number:
        found = find_account_by_number(account_number)
        if found is None:
            raise PayeeUnknown("No account of ours has this number.")
        if not _names_match(name, found.holder_name):
            raise PayeeNameMismatch("The name does not match the account holder.")
        ledger_account_id = found.ledger_account_id
        verified = True
    elif ledger_account_id is not None:
        account = ledger_queries.find_account(ledger_account_id)
        if account is None or account.owner_type == "bank":
            raise PayeeUnknown("No customer account has this id.")
    else:
        raise InvalidInput("Name a payee account number or account id.", code="payee_required")
    now = clock.now()
    payee = Payee.objects.create(
        customer_id=principal.customer_id,
        name=name[:140],
        account_number=account_number[:40],
        ledger_account_id=ledger_account_id,
        bank_code=bank_code[:20],
        nickname=nickname[:60],
        verified_at=now if verified else None,
        created_at=now,
    )
    return payee_view(payee)


def do_delete_payee(principal: Principal, payee_id: uuid.UUID) -> None:
    deleted, _ = Payee.objects.filter(
        public_id=payee_id, customer_id=principal.customer_id or uuid.UUID(int=0)
    ).delete()
    if not deleted:
        raise PayeeUnknown("No such saved payee.", code="payee_not_found")


# ------------------------------------------------------------------ QR
def do_create_merchant(
    *,
    merchant_code: str,
    name: str,
    city: str,
    ledger_account_id: uuid.UUID,
    mcc: str = "5999",
    partner_client_id: str = "",
) -> MerchantView:
    """Register a merchant that holds an account with us (idempotent by merchant code). A
    merchant registered earlier without a partner client takes ``partner_client_id``; one
    that has a partner keeps it."""
    if ledger_queries.find_account(ledger_account_id) is None:
        raise PayeeUnknown("The merchant's ledger account does not exist.")
    if partner_client_id:
        Merchant.objects.filter(merchant_code=merchant_code, partner_client_id="").update(
            partner_client_id=partner_client_id
        )
    merchant, _ = Merchant.objects.get_or_create(
        merchant_code=merchant_code,
        defaults={
            "name": name[:25],
            "city": city[:15],
            "mcc": mcc,
            "ledger_account_id": ledger_account_id,
            "partner_client_id": partner_client_id,
            "created_at": clock.now(),
        },
    )
    return merchant_view(merchant)


# Dynamic QR codes are collection requests the bank issues for a merchant (.dynamic_qr): the
# payload refers to one, and a payment takes its amount from it, not from the payload.
do_issue_dynamic_qr = dynamic_qr.do_issue_dynamic_qr
do_partner_issue_dynamic_qr = dynamic_qr.do_partner_issue_dynamic_qr
DYNAMIC_QR_SECONDS = dynamic_qr.DEFAULT_SECONDS
DYNAMIC_QR_MIN_SECONDS = dynamic_qr.MIN_SECONDS
DYNAMIC_QR_MAX_SECONDS = dynamic_qr.MAX_SECONDS


def _merchant_for(payload: str) -> tuple[Merchant, qr.QrPayload]:
    decoded = qr.decode(payload)
    code = decoded.rongshu_merchant_id
    merchant = Merchant.objects.filter(merchant_code=code).first() if code else None
    if merchant is None:
        raise MerchantUnknown("This QR code does not belong to a merchant of ours.")
    return merchant, decoded


def do_pay_merchant_qr(
    principal: Principal,
    *,
    payload: str,
    debit_account_id: uuid.UUID,
    amount: Money | None = None,
    channel: str = "api",
    idempotency_key: str = "",
) -> OrderView:
    """Pay a merchant-presented QR. A dynamic code is paid only as the bank issued it
    (:mod:`.dynamic_qr`): the amount is the issued request's (a payload whose amount differs
    is ``qr_tampered``, a different amount entered ``qr_amount_fixed``), once, before it
    expires; a static one takes the amount the customer enters."""
    _check_customer_key(idempotency_key)
    merchant, decoded = _merchant_for(payload)
    issued = dynamic_qr.issued_for(merchant, decoded)
    if issued is not None:
        fixed = Money(issued.amount_minor, issued.currency)
        if amount is not None and amount != fixed:
            raise InvalidInput("The amount is fixed by the QR code.", code="qr_amount_fixed")
        amount = fixed
    if amount is None:
        raise InvalidInput("Enter the amount to pay.", code="amount_required")
    # a static code's reference is not ours to vouch for: only an issued one is carried
    remittance = merchant.name if issued is None else dynamic_qr.remittance_of(issued)
    request = PaymentRequest(
        debit_account_id=debit_account_id,
        amount=amount,
        payee_ledger_account_id=merchant.ledger_account_id,
        payee_name=merchant.name,
        remittance_info=remittance[:140],
    )
    try:
        with transaction.atomic():
            if principal.kind is not PrincipalKind.CUSTOMER or principal.customer_id is None:
                raise PermissionDenied("Only customers make payments.")
            found = _existing(principal.customer_id, idempotency_key, request)
            if found is not None:
                if issued is not None:
                    dynamic_qr.check_replay(issued, found)
                return order_view(found, history=True)
            now = clock.now()
            if issued is not None:
                dynamic_qr.lock_open(issued, now)
            _check_debit_account(principal.customer_id, debit_account_id, amount.currency)
            if not amount.is_positive:
                raise InvalidInput(
                    "The amount must be greater than zero.", code="amount_must_be_positive"
                )
            auth_level = limits.PASSWORD
            if limits.needs_step_up(channel, amount.minor):
                # over every level's cap: refused before a code is asked for
                limits.check_within_reach(channel, amount)
                identity.require_step_up(principal, STEP_UP_ACTION)
                auth_level = limits.STEP_UP
            order = _qr_order(
                principal.customer_id,
                request,
                merchant,
                channel,
                auth_level,
                idempotency_key,
                principal.principal_key,
            )
            if issued is not None:
                dynamic_qr.mark_paid(issued, order, now)
            return order_view(order, created_by=principal.principal_key)
    except IntegrityError:
        # the same key won by a concurrent submission: answer its order
        replayed = (
            _existing(principal.customer_id, idempotency_key, request)
            if principal.customer_id is not None
            else None
        )
        if replayed is None:
            raise
        if issued is not None:
            dynamic_qr.check_replay(issued, replayed)
        return order_view(replayed, history=True)


def _qr_order(
    customer_id: uuid.UUID,
    request: PaymentRequest,
    merchant: Merchant,
    channel: str,
    auth_level: str,
    key: str,
    actor: str,
) -> PaymentOrder:
    order = _new_order(
        customer_id=customer_id,
        request=request,
        rail="qr",
        channel=channel,
        auth_level=auth_level,
        key=key,
        merchant=merchant,
        creditor_account_id=merchant.ledger_account_id,
    )
    check = PaymentCheck(
        customer_id=customer_id,
        debit_account_id=request.debit_account_id,
        amount=request.amount,
        rail="qr",
        counterparty_account_id=merchant.ledger_account_id,
        counterparty_bank_code=None,
        counterparty_account_number=None,
        at=clock.now(),
    )
    _carry_out(order, actor, check, PaymentOrder.SETTLED, _internal_transfers(order))
    return order


def do_issue_payment_code(principal: Principal, debit_account_id: uuid.UUID) -> PaymentCodeView:
    """A one-time customer-presented payment code (18 digits, 60 seconds, single use)."""
    if principal.kind is not PrincipalKind.CUSTOMER or principal.customer_id is None:
        raise PermissionDenied("Only customers show payment codes.")
    _check_debit_account(principal.customer_id, debit_account_id, "CNY")
    now = clock.now()
    code = "28" + "".join(secrets.choice("0123456789") for _ in range(16))
    row = PaymentCode.objects.create(
        code=code,
        customer_id=principal.customer_id,
        debit_account_id=debit_account_id,
        expires_at=now + timedelta(seconds=PAYMENT_CODE_SECONDS),
        created_at=now,
    )
    return PaymentCodeView(code=row.code, expires_at=row.expires_at)


def do_charge_payment_code(
    *, merchant_code: str, code: str, amount: Money, actor: str, idempotency_key: str = ""
) -> OrderView:
    """A merchant scans a customer's payment code: spend it (once) and pay the merchant.
    The amount is checked before the code is looked up, so that a bad amount says nothing
    about whether a code exists."""
    if not amount.is_positive:
        raise InvalidInput("The amount must be greater than zero.", code="amount_must_be_positive")
    with transaction.atomic():
        merchant = Merchant.objects.filter(merchant_code=merchant_code).first()
        if merchant is None:
            raise MerchantUnknown("Unknown merchant.")
        row = PaymentCode.objects.select_for_update().filter(code=code).first()
        now = clock.now()
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise PaymentCodeInvalid("The payment code is expired, used or unknown.")
        request = PaymentRequest(
            debit_account_id=row.debit_account_id,
            amount=amount,
            payee_ledger_account_id=merchant.ledger_account_id,
            payee_name=merchant.name,
            remittance_info=merchant.name,
        )
        order = _qr_order(
            row.customer_id, request, merchant, "qr", limits.PASSWORD, idempotency_key, actor
        )
        row.used_at = now
        row.order = order
        row.save(update_fields=["used_at", "order"])
        return order_view(order, created_by=actor)


def do_partner_charge_payment_code(
    principal: Principal, *, merchant_code: str, code: str, amount: Money, client_order_id: str
) -> OrderView:
    """A merchant's cashier system (its partner client, scope ``payments``) charges the code
    a customer shows (:func:`do_charge_payment_code`). Only the partner's own merchants; the
    order's key is the partner's ``client_order_id`` under ``code:<merchant>:``, apart from
    the customer's own keys."""
    identity.check_scope(principal, PartnerScope.PAYMENTS)
    if not client_order_id or len(client_order_id) > 64:
        raise InvalidInput("Give your order id (1 to 64 characters).", code="client_order_id")
    dynamic_qr.check_partner_merchant(principal, merchant_code)
    return do_charge_payment_code(
        merchant_code=merchant_code,
        code=code,
        amount=amount,
        actor=principal.principal_key,
        idempotency_key=f"code:{merchant_code}:{client_order_id}",
    )


def do_refund(
    actor: Principal, order_id: uuid.UUID, amount: Money, *, reason: str = ""
) -> OrderView:
    """Refund a settled QR payment (whole or in part) from the merchant's account; staff with
    ``payment.manage``. Audited."""
    identity.check_permission(actor, Action.PAYMENT_MANAGE)
    with transaction.atomic():
        order = PaymentOrder.objects.select_for_update().filter(public_id=order_id).first()
        if order is None:
            raise PaymentNotFound("No such payment.")
        if order.rail != "qr" or order.state != PaymentOrder.SETTLED:
            raise InvalidTransition("Only settled QR payments can be refunded.")
        refund_settled(
            order,
            amount,
            actor_key=actor.principal_key,
            reason=reason,
            action="payments.refund",
            reference=f"退款 {reason}",
            metadata=_meta(order),
            too_much=RefundRefused("The refund would exceed the payment."),
        )
        return order_view(order, history=True)


def refund_settled(
    order: PaymentOrder,
    amount: Money,
    *,
    actor_key: str,
    reason: str,
    action: str,
    reference: str,
    metadata: dict[str, Any],
    too_much: RefundRefused,
) -> None:
    """Give ``amount`` of a settled order (locked by the caller) back from the creditor's
    account: one ledger transfer, a Refund row, audit and a ``PaymentRefunded`` event. The
    refunds of an order together never exceed it (``too_much`` is raised)."""
    if amount.currency != order.currency or not amount.is_positive:
        raise RefundRefused("The refund amount is not valid.")
    if order.refunded_minor + amount.minor > order.amount_minor:
        raise too_much
    assert order.creditor_account_id is not None
    count = order.refunds.count()
    tid = transfer_id(order, f"refund-{count + 1}")
    _apply(
        [
            TransferIn(
                tid,
                order.creditor_account_id,
                order.debit_account_id,
                amount.minor,
                amount.currency,
                "payment_refund",
                reference=reference[:140],
                metadata=metadata,
            )
        ]
    )
    now = clock.now()
    Refund.objects.create(
        order=order,
        amount_minor=amount.minor,
        transfer_id=tid,
        actor=actor_key,
        reason=reason[:140],
        created_at=now,
    )
    order.refunded_minor += amount.minor
    order.updated_at = now
    order.save(update_fields=["refunded_minor", "updated_at"])
    do_audit(
        actor_key,
        action,
        object_type="payment_order",
        object_id=str(order.public_id),
        data={"amount_minor": amount.minor, "reason": reason},
    )
    record_event(
        PaymentRefunded(
            order_id=str(order.public_id),
            customer_id=str(order.customer_id) if order.customer_id else None,
            rail=order.rail,
            amount_minor=amount.minor,
            currency=order.currency,
            state=order.state,
        ),
        dedupe_key=f"payments:{order.public_id}:refund-{count + 1}",
    )
