"""Quick pay (快捷支付): a customer binds an account to a partner merchant; the partner then
debits it with an opaque binding token through its OAuth2 API, within per-binding limits.

Binding: the customer names a quick-pay merchant, an account and limits (never above the
merchant's maxima) and consents to share their name and masked account with the merchant
(recorded through identity's consent API, purpose ``third_party_sharing``). A one-time code is
sent (identity's step-up for :data:`BIND_ACTION`); the binding becomes ``active`` when the code
is confirmed in the same session. The partner (OAuth2 client of the merchant, scope
``quickpay``) then collects the binding token once (:func:`do_issue_binding_token`); only its
keyed digest is stored. The customer or the partner may cancel (``revoked``); a binding whose
account is frozen or closed, or whose customer withdrew the sharing consent, is reported
``suspended`` and refuses debits until that changes.

Debit: a payment order of rail ``quickpay`` (channel ``quickpay``, auth level ``binding``)
moving the amount from the customer's account to the merchant's settlement account through
the ledger, created by the order machinery of :mod:`rongshu.payments.services` (the order row
first, so a concurrent duplicate waits and replays; then the customer's channel limits, the
payment rules and the ledger). The binding's daily and monthly usage is consumed with one
conditional UPDATE per period in the same transaction, so concurrent debits never pass the
binding's limits together (and the debit holds the binding's row lock, so an unbind or a
lowered limit waits for the debits in flight). The partner's ``client_order_id`` is unique
per merchant: a retry returns the same debit (even after an unbind); the same id with a
different binding or amount is refused. A fee
(``RONGSHU_PAYMENT_FEES["quickpay"]``) is charged to the merchant, linked to the settlement.
Refunds (partner, whole or in part, never above the debit) move money back from the
merchant's account.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet

from rongshu.identity import services as identity
from rongshu.identity.errors import InvalidOtp
from rongshu.identity.types import (
    CURRENT_NOTICE_VERSION,
    Action,
    ConsentPurpose,
    OtpChallengeInfo,
    PartnerScope,
    Principal,
    PrincipalKind,
)
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import InvalidInput, PermissionDenied
from rongshu.kernel.money import Money
from rongshu.kernel.pii import blind_index
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.types import FROZEN_STATUSES, STATUS_CLOSED, TransferIn
from rongshu.payments import limits, services
from rongshu.payments.errors import (
    DebitAccountInvalid,
    PaymentRefused,
    QuickPayBindingNotFound,
    QuickPayBindingRevoked,
    QuickPayBindingSuspended,
    QuickPayConflict,
    QuickPayDebitNotFound,
    QuickPayLimitExceeded,
    QuickPayMerchantUnavailable,
    RefundRefused,
)
from rongshu.payments.models import (
    Merchant,
    PaymentOrder,
    QuickPayBinding,
    QuickPayDebit,
    QuickPayMerchant,
    QuickPayUsage,
)
from rongshu.payments.quickpay import notify
from rongshu.payments.types import PaymentCheck, PaymentRequest

BIND_ACTION = "quickpay.bind"  # the step-up action a binding's one-time code confirms
RAIL = "quickpay"
CHANNEL = "quickpay"
TOKEN_PREFIX = "qpt_"  # noqa: S105 - a prefix, not a secret
CONSENT_PURPOSE = ConsentPurpose.THIRD_PARTY_SHARING
MAX_CLIENT_ORDER_ID = 64
# A pending binding from before its code's expiry was stored: expired after this long.
LEGACY_PENDING_TTL = dt.timedelta(days=1)
EXPIRED_BY = "system:expired"


# ------------------------------------------------------------------ views
@dataclass(frozen=True)
class QuickPayMerchantView:
    merchant_code: str
    name: str
    max_per_transaction: Money
    max_daily: Money
    max_monthly: Money | None


@dataclass(frozen=True)
class BindingView:
    binding_id: uuid.UUID
    customer_id: uuid.UUID
    merchant_code: str
    merchant_name: str
    debit_account_id: uuid.UUID
    account_label: str
    state: str  # pending | active | suspended | revoked | expired
    suspended_reason: str  # "" | account_frozen | account_closed | consent_withdrawn
    per_transaction: Money
    daily: Money
    monthly: Money | None
    used_today: Money
    used_this_month: Money
    token_issued: bool
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_by: str


@dataclass(frozen=True)
class DebitView:
    debit_id: uuid.UUID  # the payment order's id
    binding_id: uuid.UUID
    customer_id: uuid.UUID
    merchant_code: str
    merchant_name: str
    client_order_id: str
    state: str
    amount: Money
    refunded: Money
    merchant_fee: Money
    description: str
    created_at: dt.datetime
    settled_at: dt.datetime | None


# ------------------------------------------------------------------ helpers
def _token_digest(token: str) -> str:
    return blind_index(token.strip(), purpose="quickpay-binding-token")


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _used(binding: QuickPayBinding, period: str, starts: dt.date) -> int:
    return (
        QuickPayUsage.objects.filter(binding=binding, period=period, starts_on=starts)
        .values_list("used_minor", flat=True)
        .first()
    ) or 0


def _suspension(binding: QuickPayBinding) -> str:
    account = ledger_queries.find_account(binding.debit_account_id)
    if account is None or account.status == STATUS_CLOSED:
        return "account_closed"
    if account.status in FROZEN_STATUSES:
        return "account_frozen"
    if not identity.has_consent(binding.customer_id, CONSENT_PURPOSE):
        return "consent_withdrawn"
    return ""


def _code_expired(binding: QuickPayBinding) -> bool:
    """A pending binding whose one-time code has run out (the end-of-day job expires it)."""
    return (
        binding.state == QuickPayBinding.PENDING
        and binding.code_expires_at is not None
        and binding.code_expires_at <= clock.now()
    )


def binding_view(binding: QuickPayBinding) -> BindingView:
    currency = binding.currency
    today = clock.local_today()
    reason = _suspension(binding) if binding.state == QuickPayBinding.ACTIVE else ""
    state = QuickPayBinding.EXPIRED if _code_expired(binding) else binding.state
    return BindingView(
        binding_id=binding.public_id,
        customer_id=binding.customer_id,
        merchant_code=binding.merchant.merchant_code,
        merchant_name=binding.merchant.name,
        debit_account_id=binding.debit_account_id,
        account_label=binding.account_label,
        state="suspended" if reason else state,
        suspended_reason=reason,
        per_transaction=Money(binding.per_transaction_minor, currency),
        daily=Money(binding.daily_minor, currency),
        monthly=(
            Money(binding.monthly_minor, currency) if binding.monthly_minor is not None else None
        ),
        used_today=Money(_used(binding, "day", today), currency),
        used_this_month=Money(_used(binding, "month", _month_start(today)), currency),
        token_issued=bool(binding.token_hash),
        created_at=binding.created_at,
        confirmed_at=binding.confirmed_at,
        revoked_at=binding.revoked_at,
        revoked_by=binding.revoked_by,
    )


def debit_view(debit: QuickPayDebit) -> DebitView:
    order = debit.order
    return DebitView(
        debit_id=order.public_id,
        binding_id=debit.binding.public_id,
        customer_id=debit.binding.customer_id,
        merchant_code=debit.merchant.merchant_code,
        merchant_name=debit.merchant.name,
        client_order_id=debit.client_order_id,
        state=order.state,
        amount=Money(order.amount_minor, order.currency),
        refunded=Money(order.refunded_minor, order.currency),
        merchant_fee=Money(debit.merchant_fee_minor, order.currency),
        description=order.remittance_info,
        created_at=order.created_at,
        settled_at=order.settled_at,
    )


def _merchant_view(program: QuickPayMerchant) -> QuickPayMerchantView:
    return QuickPayMerchantView(
        merchant_code=program.merchant.merchant_code,
        name=program.merchant.name,
        max_per_transaction=Money(program.max_per_transaction_minor, "CNY"),
        max_daily=Money(program.max_daily_minor, "CNY"),
        max_monthly=(
            Money(program.max_monthly_minor, "CNY")
            if program.max_monthly_minor is not None
            else None
        ),
    )


def _customer(principal: Principal) -> uuid.UUID:
    if principal.kind is not PrincipalKind.CUSTOMER or principal.customer_id is None:
        raise PermissionDenied("Only customers manage their quick-pay bindings.")
    return principal.customer_id


def _partner(principal: Principal) -> str:
    identity.check_scope(principal, PartnerScope.QUICKPAY)
    assert principal.partner_client_id is not None
    return principal.partner_client_id


def _own_binding(
    principal: Principal, binding_id: uuid.UUID | str, *, lock: bool = False
) -> QuickPayBinding:
    """The binding as the principal may see it: its customer's, or its merchant's partner's
    (scope ``quickpay``). Anyone else gets "not found"."""
    try:
        public_id = uuid.UUID(str(binding_id))
    except ValueError as exc:
        raise QuickPayBindingNotFound() from exc
    if principal.kind is PrincipalKind.PARTNER:
        client_id = _partner(principal)
        rows = QuickPayBinding.objects.select_related("merchant").filter(
            public_id=public_id, merchant__partner_client_id=client_id
        )
    else:
        rows = QuickPayBinding.objects.select_related("merchant").filter(
            public_id=public_id, customer_id=_customer(principal)
        )
    binding = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if binding is None:
        raise QuickPayBindingNotFound()
    return binding


def _check_expired(binding: QuickPayBinding) -> None:
    if binding.state == QuickPayBinding.EXPIRED or _code_expired(binding):
        raise QuickPayConflict(
            "This binding was never confirmed and its code has expired; bind again.",
            code="quickpay.binding_expired",
        )


def _live_binding(
    customer_id: uuid.UUID, merchant_id: int, debit_account_id: uuid.UUID
) -> QuerySet[QuickPayBinding]:
    """The active binding of this account to this merchant (at most one: a partial unique
    constraint)."""
    return QuickPayBinding.objects.filter(
        customer_id=customer_id,
        merchant_id=merchant_id,
        debit_account_id=debit_account_id,
        state=QuickPayBinding.ACTIVE,
    )


def _already_bound() -> QuickPayConflict:
    return QuickPayConflict(
        "This account is already bound to this merchant.", code="quickpay.already_bound"
    )


def _check_limits(
    program: QuickPayMerchant, per_transaction: int, daily: int, monthly: int | None
) -> None:
    if per_transaction <= 0 or daily <= 0 or (monthly is not None and monthly <= 0):
        raise InvalidInput("Limits must be greater than zero.", code="quickpay.invalid_limits")
    if per_transaction > daily or (monthly is not None and daily > monthly):
        raise InvalidInput(
            "The per-payment limit cannot exceed the daily limit, nor the daily the monthly.",
            code="quickpay.invalid_limits",
        )
    over = (
        per_transaction > program.max_per_transaction_minor
        or daily > program.max_daily_minor
        or (
            program.max_monthly_minor is not None
            and (monthly is None or monthly > program.max_monthly_minor)
        )
    )
    if over:
        raise QuickPayLimitExceeded(
            "The limits are above what this merchant may debit.",
            data={"limit": "merchant_maximum"},
        )


# ------------------------------------------------------------------ merchants
@transaction.atomic
def do_enable_merchant(
    merchant_code: str,
    *,
    max_per_transaction: Money,
    max_daily: Money,
    max_monthly: Money | None = None,
) -> QuickPayMerchantView:
    """Let a merchant (one with a partner OAuth2 client) debit quick-pay bindings (idempotent:
    a second call updates the maxima)."""
    merchant = Merchant.objects.filter(merchant_code=merchant_code).first()
    if merchant is None or not merchant.partner_client_id:
        raise QuickPayMerchantUnavailable(
            "Quick pay needs a merchant with a partner client.", code="quickpay.merchant_unknown"
        )
    program, _ = QuickPayMerchant.objects.update_or_create(
        merchant=merchant,
        defaults={
            "max_per_transaction_minor": max_per_transaction.minor,
            "max_daily_minor": max_daily.minor,
            "max_monthly_minor": max_monthly.minor if max_monthly is not None else None,
            "active": True,
        },
        create_defaults={
            "max_per_transaction_minor": max_per_transaction.minor,
            "max_daily_minor": max_daily.minor,
            "max_monthly_minor": max_monthly.minor if max_monthly is not None else None,
            "active": True,
            "created_at": clock.now(),
        },
    )
    return _merchant_view(program)


def list_merchants() -> list[QuickPayMerchantView]:
    rows = QuickPayMerchant.objects.select_related("merchant").filter(active=True)
    return [_merchant_view(p) for p in rows.order_by("merchant__name")]


# ------------------------------------------------------------------ bindings (customer)
def list_my_bindings(
    principal: Principal, *, include_revoked: bool = True, include_expired: bool = False
) -> list[BindingView]:
    """The customer's bindings, newest first; bindings never confirmed whose code ran out
    (``expired``) only with ``include_expired``."""
    customer_id = _customer(principal)
    rows = QuickPayBinding.objects.select_related("merchant").filter(customer_id=customer_id)
    if not include_revoked:
        rows = rows.exclude(state=QuickPayBinding.REVOKED)
    if not include_expired:
        rows = rows.exclude(state=QuickPayBinding.EXPIRED).exclude(
            state=QuickPayBinding.PENDING, code_expires_at__lte=clock.now()
        )
    return [binding_view(b) for b in rows.order_by("-created_at", "-pk")]


def access_binding(principal: Principal, binding_id: uuid.UUID | str) -> BindingView:
    return binding_view(_own_binding(principal, binding_id))


def search_bindings(
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    merchant_code: str = "",
    limit: int = 100,
) -> list[BindingView]:
    """Staff with ``payment.view`` find bindings by customer and/or merchant (audited)."""
    identity.check_permission(principal, Action.PAYMENT_VIEW)
    rows = QuickPayBinding.objects.select_related("merchant")
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if merchant_code:
        rows = rows.filter(merchant__merchant_code=merchant_code)
    do_audit(
        principal.principal_key,
        "payments.quickpay_bindings_searched",
        data={"customer_id": str(customer_id or ""), "merchant_code": merchant_code},
    )
    found = rows.order_by("-created_at", "-pk")[: max(1, min(limit, 500))]
    return [binding_view(b) for b in found]


@transaction.atomic
def do_start_binding(
    principal: Principal,
    *,
    merchant_code: str,
    debit_account_id: uuid.UUID,
    per_transaction: Money | None = None,
    daily: Money | None = None,
    monthly: Money | None = None,
    consent: bool,
    channel: str = "api",
) -> tuple[BindingView, OtpChallengeInfo]:
    """Start binding an account to a quick-pay merchant: record the consent, create a pending
    binding and send a one-time code (confirm with :func:`do_confirm_binding`). Limits left
    out are the merchant's maxima."""
    customer_id = _customer(principal)
    if not consent:
        raise InvalidInput(
            "Binding needs your consent to share your name and masked account with the merchant.",
            code="quickpay.consent_required",
        )
    program = (
        QuickPayMerchant.objects.select_related("merchant")
        .filter(merchant__merchant_code=merchant_code, active=True)
        .first()
    )
    if program is None:
        raise QuickPayMerchantUnavailable()
    account = ledger_queries.find_account(debit_account_id)
    if account is None or account.owner_type != "customer" or account.owner_id != str(customer_id):
        raise DebitAccountInvalid("This account is not one of yours.")
    if account.status != "open" or account.currency != "CNY":
        raise DebitAccountInvalid("This account cannot be bound for quick pay.")
    for given in (per_transaction, daily, monthly):
        if given is not None and given.currency != "CNY":
            raise InvalidInput("Limits are in CNY.", code="currency_mismatch")
    # a limit given (even 0.00, which _check_limits refuses) is never the merchant's maximum
    per_tx = (
        per_transaction.minor if per_transaction is not None else program.max_per_transaction_minor
    )
    day = daily.minor if daily is not None else program.max_daily_minor
    month = monthly.minor if monthly is not None else program.max_monthly_minor
    _check_limits(program, per_tx, day, month)
    if _live_binding(customer_id, program.merchant_id, debit_account_id).exists():
        raise _already_bound()
    consent_state = identity.do_set_consent(
        customer_id, CONSENT_PURPOSE, True, notice_version=CURRENT_NOTICE_VERSION, channel=channel
    )
    now = clock.now()
    binding = QuickPayBinding.objects.create(
        customer_id=customer_id,
        debit_account_id=debit_account_id,
        account_label=account.name[:140],
        merchant=program.merchant,
        per_transaction_minor=per_tx,
        daily_minor=day,
        monthly_minor=month,
        consent_notice_version=consent_state.notice_version,
        consented_at=consent_state.at or now,
        created_at=now,
    )
    challenge = identity.do_start_step_up(principal, BIND_ACTION)
    binding.challenge_id = challenge.challenge_id
    binding.code_expires_at = now + dt.timedelta(seconds=challenge.expires_in)
    binding.save(update_fields=["challenge_id", "code_expires_at"])
    do_audit(
        principal.principal_key,
        "payments.quickpay_binding_started",
        object_type="quickpay_binding",
        object_id=str(binding.public_id),
        data={"merchant": program.merchant.merchant_code},
    )
    return binding_view(binding), challenge


def do_confirm_binding(
    principal: Principal, binding_id: uuid.UUID | str, *, challenge_id: str, code: str
) -> BindingView:
    """Confirm a pending binding with the one-time code sent for it; it becomes ``active``.
    A wrong code counts against the challenge's attempts even though an error is raised (the
    code is checked in identity's own transaction, before the binding is locked)."""
    binding = _own_binding(principal, binding_id)
    _check_expired(binding)
    if binding.state != QuickPayBinding.PENDING:
        raise QuickPayConflict("This binding is not waiting for a code.")
    if binding.challenge_id is None or str(binding.challenge_id) != str(challenge_id).strip():
        raise InvalidOtp()
    action = identity.do_verify_step_up(principal, str(challenge_id), code)
    if action != BIND_ACTION:
        raise InvalidOtp()
    with transaction.atomic():
        binding = _own_binding(principal, binding_id, lock=True)
        if binding.state != QuickPayBinding.PENDING:
            raise QuickPayConflict("This binding is not waiting for a code.")
        # another pending binding of the same account to this merchant confirmed since
        live = _live_binding(binding.customer_id, binding.merchant_id, binding.debit_account_id)
        if live.exists():
            raise _already_bound()
        identity.require_step_up(principal, BIND_ACTION)  # spend the grant just passed
        binding.state = QuickPayBinding.ACTIVE
        binding.confirmed_at = clock.now()
        binding.reported_suspension = _suspension(binding)
        try:
            with transaction.atomic():
                binding.save(update_fields=["state", "confirmed_at", "reported_suspension"])
        except IntegrityError as exc:  # a concurrent confirmation won (the unique constraint)
            raise _already_bound() from exc
        notify.record_notification(
            binding.merchant,
            notify.notify_url_of(binding.merchant_id),
            "binding.suspended" if binding.reported_suspension else "binding.active",
            notify.binding_data(
                binding.public_id,
                "suspended" if binding.reported_suspension else "active",
                binding.reported_suspension,
            ),
        )
        do_audit(
            principal.principal_key,
            "payments.quickpay_bound",
            object_type="quickpay_binding",
            object_id=str(binding.public_id),
            data={"merchant": binding.merchant.merchant_code},
        )
    return binding_view(binding)


@transaction.atomic
def do_set_limits(
    principal: Principal,
    binding_id: uuid.UUID | str,
    *,
    per_transaction: Money,
    daily: Money,
    monthly: Money | None = None,
) -> BindingView:
    """Lower a binding's limits (raising one needs a new binding, with a new code)."""
    binding = _own_binding(principal, binding_id, lock=True)
    _check_expired(binding)
    if binding.state == QuickPayBinding.REVOKED:
        raise QuickPayBindingRevoked()
    new = (per_transaction.minor, daily.minor, monthly.minor if monthly is not None else None)
    if any(m.currency != binding.currency for m in (per_transaction, daily, monthly) if m):
        raise InvalidInput("Limits are in CNY.", code="currency_mismatch")
    program = QuickPayMerchant.objects.get(merchant=binding.merchant)
    _check_limits(program, *new)
    raised = (
        new[0] > binding.per_transaction_minor
        or new[1] > binding.daily_minor
        or (
            binding.monthly_minor is not None and (new[2] is None or new[2] > binding.monthly_minor)
        )
    )
    if raised:
        raise QuickPayLimitExceeded(
            "Limits can only be lowered here; bind again to raise them.",
            code="quickpay.limit_increase_refused",
        )
    binding.per_transaction_minor, binding.daily_minor, binding.monthly_minor = new
    binding.save(update_fields=["per_transaction_minor", "daily_minor", "monthly_minor"])
    do_audit(
        principal.principal_key,
        "payments.quickpay_limits_lowered",
        object_type="quickpay_binding",
        object_id=str(binding.public_id),
        data={"per_transaction": new[0], "daily": new[1], "monthly": new[2]},
    )
    return binding_view(binding)


@transaction.atomic
def do_unbind(principal: Principal, binding_id: uuid.UUID | str) -> BindingView:
    """Cancel a binding: its customer or its merchant's partner. Its token stops working at
    once (a revoked token answers ``quickpay.binding_revoked``). Idempotent; an expired
    binding (never confirmed) stays ``expired``."""
    binding = _own_binding(principal, binding_id, lock=True)
    if binding.state not in (QuickPayBinding.REVOKED, QuickPayBinding.EXPIRED):
        binding.state = QuickPayBinding.REVOKED
        binding.revoked_at = clock.now()
        binding.revoked_by = principal.principal_key[:120]
        binding.save(update_fields=["state", "revoked_at", "revoked_by"])
        do_audit(
            principal.principal_key,
            "payments.quickpay_unbound",
            object_type="quickpay_binding",
            object_id=str(binding.public_id),
        )
        by = "partner" if principal.kind is PrincipalKind.PARTNER else "customer"
        notify.record_notification(
            binding.merchant,
            notify.notify_url_of(binding.merchant_id),
            "binding.revoked",
            notify.binding_data(binding.public_id, QuickPayBinding.REVOKED, by),
        )
    return binding_view(binding)


# ------------------------------------------------------------------ partner
@transaction.atomic
def do_issue_binding_token(
    principal: Principal, binding_id: uuid.UUID | str
) -> tuple[BindingView, str]:
    """The merchant's partner collects an active binding's token, once (only a digest is
    kept; a lost token means binding again)."""
    _partner(principal)
    binding = _own_binding(principal, binding_id, lock=True)
    _check_expired(binding)
    if binding.state == QuickPayBinding.REVOKED:
        raise QuickPayBindingRevoked()
    if binding.state != QuickPayBinding.ACTIVE:
        raise QuickPayConflict("The customer has not confirmed this binding yet.")
    if binding.token_hash:
        raise QuickPayConflict(
            "The token of this binding was already issued.", code="quickpay.token_already_issued"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    binding.token_hash = _token_digest(token)
    binding.token_issued_at = clock.now()
    binding.save(update_fields=["token_hash", "token_issued_at"])
    do_audit(
        principal.principal_key,
        "payments.quickpay_token_issued",
        object_type="quickpay_binding",
        object_id=str(binding.public_id),
    )
    return binding_view(binding), token


def _binding_for_token(client_id: str, token: str) -> QuickPayBinding:
    binding = (
        QuickPayBinding.objects.select_related("merchant")
        .filter(token_hash=_token_digest(token), merchant__partner_client_id=client_id)
        .first()
        if token.strip().startswith(TOKEN_PREFIX)
        else None
    )
    if binding is None:
        raise QuickPayBindingNotFound("No binding of yours has this token.")
    return binding


def _existing_debit(
    merchant: Merchant, client_order_id: str, binding: QuickPayBinding, amount: Money
) -> QuickPayDebit | None:
    found = (
        QuickPayDebit.objects.select_related("order", "binding", "merchant")
        .filter(merchant=merchant, client_order_id=client_order_id)
        .first()
    )
    if found is None:
        return None
    same = (
        found.binding_id == binding.pk
        and found.order.amount_minor == amount.minor
        and found.order.currency == amount.currency
    )
    if not same:
        raise PaymentRefused(
            "This client order id was already used for a different debit.",
            code="quickpay.idempotency_key_reused",
        )
    return found


def _lower(*limits: int | None) -> int | None:
    """The lowest of the limits that are set (``None``: none is)."""
    given = [limit for limit in limits if limit is not None]
    return min(given) if given else None


def _consume_usage(
    binding: QuickPayBinding, amount: Money, day: dt.date, *, daily: int, monthly: int | None
) -> None:
    """Consume the binding's daily and monthly usage atomically against the caps given (the
    month has a cap only when ``monthly`` is set), or raise :class:`QuickPayLimitExceeded`."""
    caps = [("day", day, daily), ("month", _month_start(day), monthly)]
    for period, starts, cap in caps:
        room = QuickPayUsage.objects.filter(binding=binding, period=period, starts_on=starts)
        if cap is not None:
            room = room.filter(used_minor__lte=cap - amount.minor)
        updated = room.update(used_minor=F("used_minor") + amount.minor)
        if updated == 0:
            try:
                with transaction.atomic():
                    QuickPayUsage.objects.get_or_create(
                        binding=binding, period=period, starts_on=starts
                    )
            except IntegrityError:  # a concurrent debit created it
                pass
            updated = room.update(used_minor=F("used_minor") + amount.minor)
        if updated != 1:
            raise QuickPayLimitExceeded(
                f"The amount is over this binding's {'daily' if period == 'day' else 'monthly'} "
                "limit.",
                data={"limit": "daily" if period == "day" else "monthly"},
            )


def _debit_transfers(order: PaymentOrder, merchant: Merchant) -> tuple[list[TransferIn], int]:
    """Customer → merchant, and the merchant's fee (linked); returns them and the fee."""
    assert order.creditor_account_id is not None
    amount = Money(order.amount_minor, order.currency)
    fee = min(limits.fee_for(RAIL, amount).minor, amount.minor)
    meta = {"payment_order": str(order.public_id), "rail": RAIL}
    steps = [
        (
            "settle",
            TransferIn(
                services.transfer_id(order, "settle"),
                order.debit_account_id,
                order.creditor_account_id,
                order.amount_minor,
                order.currency,
                "payment_quickpay",
                reference=(order.remittance_info or merchant.name)[:140],
                metadata=meta,
            ),
        )
    ]
    if fee:
        steps.append(
            (
                "fee",
                TransferIn(
                    services.transfer_id(order, "fee"),
                    merchant.ledger_account_id,
                    services._fee_account(order.currency),
                    fee,
                    order.currency,
                    "payment_fee",
                    reference="快捷支付手续费",
                    metadata=meta,
                ),
            )
        )
        order.fee_transfer_id = services.transfer_id(order, "fee")
    order.settle_transfer_id = services.transfer_id(order, "settle")
    return services._chain(order, steps), fee


def do_debit(
    principal: Principal,
    *,
    binding_token: str,
    amount: Money,
    client_order_id: str,
    description: str = "",
) -> DebitView:
    """A partner debits a bound account (scope ``quickpay``). The same ``client_order_id``
    returns the same debit; with another binding or amount it is refused."""
    client_id = _partner(principal)
    client_order_id = client_order_id.strip()
    if not client_order_id or len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise InvalidInput(
            "A client order id of 1 to 64 characters is required.",
            code="quickpay.client_order_id_invalid",
        )
    binding = _binding_for_token(client_id, binding_token)
    merchant = binding.merchant
    try:
        with transaction.atomic():
            # One debit of a binding at a time: an unbind or a lowered limit waits for the
            # debits in flight, and no debit uses a state older than its own transaction.
            binding = (
                QuickPayBinding.objects.select_for_update(of=("self",))
                .select_related("merchant")
                .get(pk=binding.pk)
            )
            found = _existing_debit(merchant, client_order_id, binding, amount)
            if found is not None:
                return debit_view(found)  # a retry answers the first debit, even if unbound since
            if binding.state == QuickPayBinding.REVOKED:
                raise QuickPayBindingRevoked()
            return debit_view(_debit(principal, binding, amount, client_order_id, description))
    except IntegrityError:
        # a concurrent request with the same client order id won: answer its debit
        replayed = _existing_debit(merchant, client_order_id, binding, amount)
        if replayed is None:
            raise
        return debit_view(replayed)


def _debit(
    principal: Principal,
    binding: QuickPayBinding,
    amount: Money,
    client_order_id: str,
    description: str,
) -> QuickPayDebit:
    if not amount.is_positive:
        raise InvalidInput("The amount must be greater than zero.", code="amount_must_be_positive")
    if amount.currency != binding.currency:
        raise InvalidInput("The binding is in another currency.", code="currency_mismatch")
    reason = _suspension(binding)
    if reason:
        raise QuickPayBindingSuspended(data={"reason": reason})
    # one read: the merchant is enabled, where its notifications go, and its current maxima
    program = (
        QuickPayMerchant.objects.filter(merchant_id=binding.merchant_id, active=True)
        .values_list(
            "notify_url", "max_per_transaction_minor", "max_daily_minor", "max_monthly_minor"
        )
        .first()
    )
    if program is None:
        raise QuickPayMerchantUnavailable()
    notify_url, max_per_transaction, max_daily, max_monthly = program
    # a binding never debits above the merchant's maxima, even ones lowered after it was made
    per_transaction = min(binding.per_transaction_minor, max_per_transaction)
    daily = min(binding.daily_minor, max_daily)
    monthly = _lower(binding.monthly_minor, max_monthly)
    if amount.minor > per_transaction:
        raise QuickPayLimitExceeded(
            "The amount is over this binding's per-payment limit.",
            data={"limit": "per_transaction"},
        )
    merchant = binding.merchant
    request = PaymentRequest(
        debit_account_id=binding.debit_account_id,
        amount=amount,
        payee_ledger_account_id=merchant.ledger_account_id,
        payee_name=merchant.name,
        remittance_info=(description.strip() or merchant.name)[:140],
    )
    order = services._new_order(
        customer_id=binding.customer_id,
        request=request,
        rail=RAIL,
        channel=CHANNEL,
        auth_level=limits.BINDING,
        key=f"quickpay:{merchant.merchant_code}:{client_order_id}",
        merchant=merchant,
        creditor_account_id=merchant.ledger_account_id,
    )
    transfers, fee = _debit_transfers(order, merchant)
    check = PaymentCheck(
        customer_id=binding.customer_id,
        debit_account_id=binding.debit_account_id,
        amount=amount,
        rail=RAIL,
        counterparty_account_id=merchant.ledger_account_id,
        counterparty_bank_code=None,
        counterparty_account_number=None,
        at=clock.now(),
    )
    # The order row first (a duplicate waits on its unique key and replays), then the
    # customer's channel limits, the payment rules and the ledger; last the binding's usage.
    services._carry_out(order, principal.principal_key, check, PaymentOrder.SETTLED, transfers)
    _consume_usage(binding, amount, clock.local_today(), daily=daily, monthly=monthly)
    created = QuickPayDebit.objects.create(
        order=order,
        binding=binding,
        merchant=merchant,
        client_order_id=client_order_id,
        merchant_fee_minor=fee,
        created_at=order.created_at,
    )
    # in this transaction, delivered after commit: a rolled-back debit notifies nobody
    notify.record_notification(merchant, notify_url, "debit.settled", _debit_data(created))
    return created


def _debit_data(
    debit: QuickPayDebit, refund: tuple[uuid.UUID, Money] | None = None
) -> dict[str, object]:
    order = debit.order
    return notify.debit_data(
        debit_id=order.public_id,
        binding_id=debit.binding.public_id,
        client_order_id=debit.client_order_id,
        state=order.state,
        amount=Money(order.amount_minor, order.currency),
        refunded=Money(order.refunded_minor, order.currency),
        merchant_fee=Money(debit.merchant_fee_minor, order.currency),
        refund=refund,
    )


def _own_debit(
    principal: Principal, debit_id: uuid.UUID | str, *, lock: bool = False
) -> QuickPayDebit:
    try:
        order_uuid = uuid.UUID(str(debit_id))
    except ValueError as exc:
        raise QuickPayDebitNotFound() from exc
    rows = QuickPayDebit.objects.select_related("order", "binding", "merchant").filter(
        order__public_id=order_uuid
    )
    if principal.kind is PrincipalKind.PARTNER:
        rows = rows.filter(merchant__partner_client_id=_partner(principal))
    else:
        rows = rows.filter(binding__customer_id=_customer(principal))
    if lock:
        order = PaymentOrder.objects.select_for_update().filter(public_id=order_uuid).first()
        if order is None:
            raise QuickPayDebitNotFound()
    found = rows.first()
    if found is None:
        raise QuickPayDebitNotFound()
    return found


def access_debit(principal: Principal, debit_id: uuid.UUID | str) -> DebitView:
    """A debit as its partner or its customer sees it (anyone else: not found)."""
    return debit_view(_own_debit(principal, debit_id))


def list_binding_debits(
    principal: Principal, binding_id: uuid.UUID | str, *, limit: int = 50
) -> list[DebitView]:
    binding = _own_binding(principal, binding_id)
    rows = (
        QuickPayDebit.objects.select_related("order", "binding", "merchant")
        .filter(binding=binding)
        .order_by("-created_at", "-pk")[: max(1, min(limit, 200))]
    )
    return [debit_view(d) for d in rows]


def list_my_debits(principal: Principal, *, limit: int = 50) -> list[DebitView]:
    customer_id = _customer(principal)
    rows = (
        QuickPayDebit.objects.select_related("order", "binding", "merchant")
        .filter(binding__customer_id=customer_id)
        .order_by("-created_at", "-pk")[: max(1, min(limit, 200))]
    )
    return [debit_view(d) for d in rows]


def do_refund(
    principal: Principal, debit_id: uuid.UUID | str, amount: Money, *, reason: str = ""
) -> DebitView:
    """The partner refunds a settled debit, whole or in part, from the merchant's account;
    the refunds together never exceed the debit. The merchant's fee is not given back."""
    _partner(principal)
    with transaction.atomic():
        debit = _own_debit(principal, debit_id, lock=True)
        order = PaymentOrder.objects.select_for_update().get(pk=debit.order_id)
        if order.state != PaymentOrder.SETTLED:
            raise RefundRefused("Only a settled debit can be refunded.")
        services.refund_settled(
            order,
            amount,
            actor_key=principal.principal_key,
            reason=reason,
            action="payments.quickpay_refund",
            reference=f"快捷支付退款 {reason}",
            metadata={"payment_order": str(order.public_id), "rail": RAIL},
            too_much=RefundRefused(
                "The refund would exceed the debit.", code="quickpay.refund_exceeds_debit"
            ),
        )
        debit.order = order
        refund = order.refunds.order_by("-pk").first()
        assert refund is not None
        notify.record_notification(
            debit.merchant,
            notify.notify_url_of(debit.merchant_id),
            "debit.refunded",
            _debit_data(debit, (refund.public_id, Money(refund.amount_minor, order.currency))),
        )
        return debit_view(debit)
