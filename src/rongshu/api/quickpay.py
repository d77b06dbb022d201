"""Quick pay (快捷支付) endpoints, under ``/payments/quickpay``.

Customers list the quick-pay merchants and their bindings, start a binding (consent + a one-time
code), confirm it, lower its limits, cancel it and read its debits. Partners — OAuth2
client-credentials bearer tokens with the ``quickpay`` scope, only for their own merchant's
bindings — collect a binding's token once, debit with it (``Idempotency-Key`` and their own
``client_order_id``), refund, read a debit or a binding and cancel a binding. Amounts are
decimal strings.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.api.schemas import MoneyOut, money_out
from rongshu.identity.types import Principal, PrincipalKind
from rongshu.kernel.errors import PermissionDenied
from rongshu.kernel.money import Money
from rongshu.payments import quickpay
from rongshu.payments.quickpay.services import BindingView, DebitView, QuickPayMerchantView

router = Router(tags=["quick pay"], auth=principal_auth)


def _optional(m: Money | None) -> MoneyOut | None:
    return money_out(m) if m is not None else None


def _cny(text: str | None) -> Money | None:
    return Money.parse(text, "CNY") if text not in (None, "") else None


class MerchantOut(Schema):
    merchant_code: str
    name: str
    max_per_transaction: MoneyOut
    max_daily: MoneyOut
    max_monthly: MoneyOut | None


def _merchant(view: QuickPayMerchantView) -> MerchantOut:
    return MerchantOut(
        merchant_code=view.merchant_code,
        name=view.name,
        max_per_transaction=money_out(view.max_per_transaction),
        max_daily=money_out(view.max_daily),
        max_monthly=_optional(view.max_monthly),
    )


class BindingOut(Schema):
    id: uuid.UUID
    merchant_code: str
    merchant_name: str
    debit_account_id: uuid.UUID
    account_label: str
    state: str = Field(description="pending, active, suspended, revoked or expired")
    suspended_reason: str
    per_transaction: MoneyOut
    daily: MoneyOut
    monthly: MoneyOut | None
    used_today: MoneyOut
    used_this_month: MoneyOut
    token_issued: bool
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    revoked_at: dt.datetime | None


def _binding(view: BindingView) -> BindingOut:
    return BindingOut(
        id=view.binding_id,
        merchant_code=view.merchant_code,
        merchant_name=view.merchant_name,
        debit_account_id=view.debit_account_id,
        account_label=view.account_label,
        state=view.state,
        suspended_reason=view.suspended_reason,
        per_transaction=money_out(view.per_transaction),
        daily=money_out(view.daily),
        monthly=_optional(view.monthly),
        used_today=money_out(view.used_today),
        used_this_month=money_out(view.used_this_month),
        token_issued=view.token_issued,
        created_at=view.created_at,
        confirmed_at=view.confirmed_at,
        revoked_at=view.revoked_at,
    )


class PartnerBindingOut(Schema):
    """A binding as its merchant's partner sees it (no account details of the customer)."""

    id: uuid.UUID
    merchant_code: str
    state: str = Field(description="pending, active, suspended, revoked or expired")
    suspended_reason: str
    per_transaction: MoneyOut
    daily: MoneyOut
    monthly: MoneyOut | None
    used_today: MoneyOut
    used_this_month: MoneyOut
    confirmed_at: dt.datetime | None
    revoked_at: dt.datetime | None


def _partner_binding(view: BindingView) -> PartnerBindingOut:
    return PartnerBindingOut(
        id=view.binding_id,
        merchant_code=view.merchant_code,
        state=view.state,
        suspended_reason=view.suspended_reason,
        per_transaction=money_out(view.per_transaction),
        daily=money_out(view.daily),
        monthly=_optional(view.monthly),
        used_today=money_out(view.used_today),
        used_this_month=money_out(view.used_this_month),
        confirmed_at=view.confirmed_at,
        revoked_at=view.revoked_at,
    )


class DebitOut(Schema):
    id: uuid.UUID
    binding_id: uuid.UUID
    merchant_code: str
    merchant_name: str
    client_order_id: str
    state: str
    amount: MoneyOut
    refunded: MoneyOut
    merchant_fee: MoneyOut
    description: str
    created_at: dt.datetime
    settled_at: dt.datetime | None


def _debit(view: DebitView) -> DebitOut:
    return DebitOut(
        id=view.debit_id,
        binding_id=view.binding_id,
        merchant_code=view.merchant_code,
        merchant_name=view.merchant_name,
        client_order_id=view.client_order_id,
        state=view.state,
        amount=money_out(view.amount),
        refunded=money_out(view.refunded),
        merchant_fee=money_out(view.merchant_fee),
        description=view.description,
        created_at=view.created_at,
        settled_at=view.settled_at,
    )


def _customer(request: HttpRequest) -> Principal:
    who = principal(request)
    if who.kind is not PrincipalKind.CUSTOMER:
        raise PermissionDenied("Only customers manage quick-pay bindings.")
    return who


_AMOUNT = r"^\d{1,12}(\.\d{1,2})?$"


# ------------------------------------------------------------------ customers
@router.get("/merchants", response=list[MerchantOut], summary="Merchants offering quick pay")
def list_merchants(request: HttpRequest) -> list[MerchantOut]:
    _customer(request)
    return [_merchant(m) for m in quickpay.list_merchants()]


@router.get("/bindings", response=list[BindingOut], summary="My quick-pay bindings")
def list_bindings(request: HttpRequest, include_expired: bool = False) -> list[BindingOut]:
    """Bindings never confirmed whose code ran out (``expired``) only when asked for."""
    return [
        _binding(b)
        for b in quickpay.list_my_bindings(_customer(request), include_expired=include_expired)
    ]


class BindIn(Schema):
    model_config = ConfigDict(extra="forbid")

    merchant_code: str = Field(min_length=1, max_length=25)
    debit_account_id: uuid.UUID
    per_transaction: str | None = Field(None, pattern=_AMOUNT, description="Default: maximum.")
    daily: str | None = Field(None, pattern=_AMOUNT)
    monthly: str | None = Field(None, pattern=_AMOUNT)
    consent: bool = Field(
        description="I agree to share my name and masked account number with the merchant."
    )


class ChallengeOut(Schema):
    challenge_id: uuid.UUID
    masked_phone: str
    expires_in: int


class BindStartedOut(Schema):
    binding: BindingOut
    challenge: ChallengeOut


@router.post(
    "/bindings", response={201: BindStartedOut}, summary="Start a binding (sends a one-time code)"
)
@command()
def start_binding(request: HttpRequest, payload: BindIn) -> Status[BindStartedOut]:
    view, challenge = quickpay.do_start_binding(
        _customer(request),
        merchant_code=payload.merchant_code.strip(),
        debit_account_id=payload.debit_account_id,
        per_transaction=_cny(payload.per_transaction),
        daily=_cny(payload.daily),
        monthly=_cny(payload.monthly),
        consent=payload.consent,
        channel="api",
    )
    return Status(
        201,
        BindStartedOut(
            binding=_binding(view),
            challenge=ChallengeOut(
                challenge_id=challenge.challenge_id,
                masked_phone=challenge.masked_phone,
                expires_in=challenge.expires_in,
            ),
        ),
    )


class ConfirmIn(Schema):
    model_config = ConfigDict(extra="forbid")
    challenge_id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=12)


@router.post("/bindings/{binding_id}/confirm", response=BindingOut, summary="Confirm with the code")
@command()
def confirm_binding(request: HttpRequest, binding_id: uuid.UUID, payload: ConfirmIn) -> BindingOut:
    return _binding(
        quickpay.do_confirm_binding(
            _customer(request), binding_id, challenge_id=payload.challenge_id, code=payload.code
        )
    )


class LimitsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    per_transaction: str = Field(pattern=_AMOUNT)
    daily: str = Field(pattern=_AMOUNT)
    monthly: str | None = Field(None, pattern=_AMOUNT)


@router.post("/bindings/{binding_id}/limits", response=BindingOut, summary="Lower the limits")
@command()
def set_limits(request: HttpRequest, binding_id: uuid.UUID, payload: LimitsIn) -> BindingOut:
    return _binding(
        quickpay.do_set_limits(
            _customer(request),
            binding_id,
            per_transaction=Money.parse(payload.per_transaction, "CNY"),
            daily=Money.parse(payload.daily, "CNY"),
            monthly=_cny(payload.monthly),
        )
    )


@router.post("/bindings/{binding_id}/unbind", response=BindingOut, summary="Cancel a binding")
@command()
def unbind(request: HttpRequest, binding_id: uuid.UUID) -> BindingOut:
    return _binding(quickpay.do_unbind(_customer(request), binding_id))


@router.get("/bindings/{binding_id}/debits", response=list[DebitOut], summary="A binding's debits")
def binding_debits(request: HttpRequest, binding_id: uuid.UUID, limit: int = 50) -> list[DebitOut]:
    return [
        _debit(d) for d in quickpay.list_binding_debits(_customer(request), binding_id, limit=limit)
    ]


# ------------------------------------------------------------------ partners
class TokenOut(Schema):
    binding: PartnerBindingOut
    binding_token: str = Field(description="Shown once; only a digest is kept.")


@router.post(
    "/partner/bindings/{binding_id}/token",
    response={201: TokenOut},
    summary="Collect a confirmed binding's token (partners, once)",
)
@command()
def issue_token(request: HttpRequest, binding_id: uuid.UUID) -> Status[TokenOut]:
    view, token = quickpay.do_issue_binding_token(principal(request), binding_id)
    return Status(201, TokenOut(binding=_partner_binding(view), binding_token=token))


@router.get(
    "/partner/bindings/{binding_id}", response=PartnerBindingOut, summary="A binding (partners)"
)
def partner_binding(request: HttpRequest, binding_id: uuid.UUID) -> PartnerBindingOut:
    who = principal(request)
    if who.kind is not PrincipalKind.PARTNER:
        raise PermissionDenied("Only partners use this endpoint.")
    return _partner_binding(quickpay.access_binding(who, binding_id))


@router.post(
    "/partner/bindings/{binding_id}/unbind",
    response=PartnerBindingOut,
    summary="Cancel a binding (partners)",
)
@command()
def partner_unbind(request: HttpRequest, binding_id: uuid.UUID) -> PartnerBindingOut:
    who = principal(request)
    if who.kind is not PrincipalKind.PARTNER:
        raise PermissionDenied("Only partners use this endpoint.")
    return _partner_binding(quickpay.do_unbind(who, binding_id))


class DebitIn(Schema):
    model_config = ConfigDict(extra="forbid")
    binding_token: str = Field(min_length=1, max_length=200)
    amount: str = Field(description='Decimal string, e.g. "12.34".')
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    client_order_id: str = Field(min_length=1, max_length=64)
    description: str = Field("", max_length=140)


@router.post(
    "/partner/debits", response={201: DebitOut}, summary="Debit a bound account (partners)"
)
@command(idempotent=True)
def create_debit(request: HttpRequest, payload: DebitIn) -> Status[DebitOut]:
    view = quickpay.do_debit(
        principal(request),
        binding_token=payload.binding_token,
        amount=Money.parse(payload.amount, payload.currency),
        client_order_id=payload.client_order_id,
        description=payload.description,
    )
    return Status(201, _debit(view))


@router.get("/partner/debits/{debit_id}", response=DebitOut, summary="A debit (partners)")
def get_debit(request: HttpRequest, debit_id: uuid.UUID) -> DebitOut:
    who = principal(request)
    if who.kind is not PrincipalKind.PARTNER:
        raise PermissionDenied("Only partners use this endpoint.")
    return _debit(quickpay.access_debit(who, debit_id))


class RefundIn(Schema):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(description='Decimal string, e.g. "12.34".')
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    reason: str = Field("", max_length=140)


@router.post(
    "/partner/debits/{debit_id}/refunds",
    response={201: DebitOut},
    summary="Refund a debit, whole or in part (partners)",
)
@command(idempotent=True)
def refund_debit(request: HttpRequest, debit_id: uuid.UUID, payload: RefundIn) -> Status[DebitOut]:
    view = quickpay.do_refund(
        principal(request),
        debit_id,
        Money.parse(payload.amount, payload.currency),
        reason=payload.reason,
    )
    return Status(201, _debit(view))
