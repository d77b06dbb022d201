"""Payments endpoints: payment orders (idempotent), payees with name verification, QR
(decode, pay a merchant code, show my payment code; a merchant's partner issues dynamic codes
and charges payment codes), and the staff search and refunds.

Customers see only their own orders (others answer 404); staff by ``payment.view`` /
``payment.manage``. Amounts are decimal strings.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.api.schemas import MoneyOut, money_out
from rongshu.identity.services import check_permission
from rongshu.identity.types import Action, Principal, PrincipalKind
from rongshu.kernel.errors import PermissionDenied
from rongshu.kernel.money import Money
from rongshu.payments import queries, services
from rongshu.payments.types import DynamicQrView, OrderView, PayeeView, PaymentRequest

logger = logging.getLogger(__name__)
router = Router(tags=["payments"], auth=principal_auth)


class HistoryOut(Schema):
    from_state: str
    to_state: str
    actor: str
    reason: str
    at: dt.datetime


class OrderOut(Schema):
    id: uuid.UUID
    rail: str
    channel: str
    state: str
    auth_level: str
    debit_account_id: uuid.UUID
    amount: MoneyOut
    fee: MoneyOut
    payee_name: str
    payee_account_number: str
    payee_bank_code: str
    network: str
    merchant_name: str
    remittance_info: str
    reason_code: str
    refunded: MoneyOut
    created_at: dt.datetime
    settled_at: dt.datetime | None
    history: list[HistoryOut]


def _order(view: OrderView) -> OrderOut:
    return OrderOut(
        id=view.order_id,
        rail=view.rail,
        channel=view.channel,
        state=view.state,
        auth_level=view.auth_level,
        debit_account_id=view.debit_account_id,
        amount=money_out(view.amount),
        fee=money_out(view.fee),
        payee_name=view.creditor_name,
        payee_account_number=view.creditor_account_number,
        payee_bank_code=view.creditor_bank_code,
        network=view.network,
        merchant_name=view.merchant_name,
        remittance_info=view.remittance_info,
        reason_code=view.reason_code,
        refunded=money_out(view.refunded),
        created_at=view.created_at,
        settled_at=view.settled_at,
        history=[HistoryOut(**h.__dict__) for h in view.history],
    )


class OrderIn(Schema):
    model_config = ConfigDict(extra="forbid")

    debit_account_id: uuid.UUID
    amount: str = Field(description='Decimal string, e.g. "12.34".')
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    payee_account_number: str = Field("", max_length=40)
    payee_account_id: uuid.UUID | None = Field(None, description="A ledger account of ours.")
    payee_name: str = Field("", max_length=140)
    payee_bank_code: str = Field("", max_length=20, description="Set for another bank.")
    network: Literal["", "ibps", "hvps", "bulk"] = ""
    remittance_info: str = Field("", max_length=140)


def _customer(request: HttpRequest) -> Principal:
    who = principal(request)
    if who.kind is not PrincipalKind.CUSTOMER:
        raise PermissionDenied("Only customers make payments.")
    return who


@router.post("/orders", response={201: OrderOut}, summary="Create a payment order")
@command(idempotent=True)
def create_order(request: HttpRequest, payload: OrderIn) -> Status[OrderOut]:
    who = _customer(request)
    view = services.do_create_payment(
        who,
        PaymentRequest(
            debit_account_id=payload.debit_account_id,
            amount=Money.parse(payload.amount, payload.currency),
            payee_account_number=payload.payee_account_number.strip(),
            payee_ledger_account_id=payload.payee_account_id,
            payee_name=payload.payee_name.strip(),
            payee_bank_code=payload.payee_bank_code.strip(),
            network=payload.network,
            remittance_info=payload.remittance_info,
        ),
        channel="api",
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    services.submit_after_commit(view)
    return Status(201, _order(view))


@router.get("/orders", response=list[OrderOut], summary="My payment orders")
def list_orders(request: HttpRequest, limit: int = 50) -> list[OrderOut]:
    who = _customer(request)
    return [_order(v) for v in queries.list_my_orders(who, limit=limit)]


@router.get("/orders/{order_id}", response=OrderOut, summary="One payment order")
def get_order(request: HttpRequest, order_id: str) -> OrderOut:
    return _order(queries.access_order(principal(request), order_id))


@router.get(
    "/orders/{order_id}/receipt.pdf",
    response={200: None},
    summary="The payment receipt as PDF (settled or returned orders)",
    openapi_extra={
        "responses": {
            200: {
                "description": "A PDF document.",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_receipt_pdf(request: HttpRequest, order_id: str) -> HttpResponse:
    data = queries.receipt_pdf(principal(request), order_id)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{order_id}.pdf"'
    return response


# ------------------------------------------------------------------ payees
class PayeeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=140)
    account_number: str = Field("", max_length=40)
    account_id: uuid.UUID | None = None
    bank_code: str = Field("", max_length=20)
    nickname: str = Field("", max_length=60)


class PayeeOut(Schema):
    id: uuid.UUID
    name: str
    account_number: str
    account_id: uuid.UUID | None
    bank_code: str
    nickname: str
    verified: bool


def _payee(view: PayeeView) -> PayeeOut:
    return PayeeOut(
        id=view.payee_id,
        name=view.name,
        account_number=view.account_number,
        account_id=view.ledger_account_id,
        bank_code=view.bank_code,
        nickname=view.nickname,
        verified=view.verified,
    )


@router.get("/payees", response=list[PayeeOut], summary="My saved payees")
def list_payees(request: HttpRequest) -> list[PayeeOut]:
    return [_payee(p) for p in queries.list_payees(_customer(request))]


@router.post("/payees", response={201: PayeeOut}, summary="Save a payee (name verified)")
@command()
def save_payee(request: HttpRequest, payload: PayeeIn) -> Status[PayeeOut]:
    view = services.do_save_payee(
        _customer(request),
        name=payload.name,
        account_number=payload.account_number.strip(),
        ledger_account_id=payload.account_id,
        bank_code=payload.bank_code.strip(),
        nickname=payload.nickname,
    )
    return Status(201, _payee(view))


@router.delete("/payees/{payee_id}", response={204: None}, summary="Remove a saved payee")
@command()
def delete_payee(request: HttpRequest, payee_id: uuid.UUID) -> Status[None]:
    services.do_delete_payee(_customer(request), payee_id)
    return Status(204, None)


# ------------------------------------------------------------------ QR
class QrIn(Schema):
    model_config = ConfigDict(extra="forbid")
    payload: str = Field(min_length=1, max_length=512)


class QrOut(Schema):
    ours: bool
    merchant_code: str | None
    merchant_name: str | None
    amount: MoneyOut | None
    currency: str | None
    dynamic: bool
    reference: str | None
    bill_number: str | None = Field(None, description="A dynamic code's bill number (62/01).")
    state: str | None = Field(
        None, description="A dynamic code of ours: its state (open, paid or expired)."
    )
    expires_at: dt.datetime | None = None


@router.post("/qr/decode", response=QrOut, summary="Decode and verify a merchant QR code")
@command()
def decode_qr(request: HttpRequest, payload: QrIn) -> QrOut:
    _customer(request)
    found = queries.decode_qr(payload.payload)
    return QrOut(
        ours=found.ours,
        merchant_code=found.merchant_code,
        merchant_name=found.merchant_name,
        amount=money_out(found.amount) if found.amount else None,
        currency=found.currency,
        dynamic=found.dynamic,
        reference=found.reference,
        bill_number=found.bill_number,
        state=found.state,
        expires_at=found.expires_at,
    )


class QrPayIn(Schema):
    model_config = ConfigDict(extra="forbid")
    payload: str = Field(min_length=1, max_length=512)
    debit_account_id: uuid.UUID
    amount: str | None = Field(None, description="Needed for a static code.")
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")


@router.post("/qr/pay", response={201: OrderOut}, summary="Pay a merchant QR code")
@command(idempotent=True)
def pay_qr(request: HttpRequest, payload: QrPayIn) -> Status[OrderOut]:
    view = services.do_pay_merchant_qr(
        _customer(request),
        payload=payload.payload,
        debit_account_id=payload.debit_account_id,
        amount=Money.parse(payload.amount, payload.currency) if payload.amount else None,
        channel="api",
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    return Status(201, _order(view))


class CodeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    debit_account_id: uuid.UUID


class CodeOut(Schema):
    code: str
    expires_at: dt.datetime


@router.post("/codes", response={201: CodeOut}, summary="Show my one-time payment code")
@command()
def issue_code(request: HttpRequest, payload: CodeIn) -> Status[CodeOut]:
    view = services.do_issue_payment_code(_customer(request), payload.debit_account_id)
    return Status(201, CodeOut(code=view.code, expires_at=view.expires_at))


class CodeChargeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    merchant_code: str = Field(min_length=1, max_length=25)
    code: str = Field(min_length=1, max_length=32, description="The code the customer shows.")
    amount: str = Field(description='Decimal string, e.g. "12.34".')
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    client_order_id: str = Field(min_length=1, max_length=64)


@router.post(
    "/partner/codes/charge",
    response={201: OrderOut},
    summary="Charge a customer's payment code (merchants' partners)",
)
@command(idempotent=True)
def charge_code(request: HttpRequest, payload: CodeChargeIn) -> Status[OrderOut]:
    """A merchant's cashier scans the one-time code a customer shows and charges it: OAuth2
    client credentials with the ``payments`` scope, for the partner's own merchants only."""
    view = services.do_partner_charge_payment_code(
        principal(request),
        merchant_code=payload.merchant_code,
        code=payload.code.strip(),
        amount=Money.parse(payload.amount, payload.currency),
        client_order_id=payload.client_order_id,
    )
    return Status(201, _order(view))


class DynamicQrIn(Schema):
    model_config = ConfigDict(extra="forbid")
    merchant_code: str = Field(min_length=1, max_length=25)
    amount: str = Field(description='Decimal string, e.g. "12.34".')
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    bill_number: str = Field("", max_length=25, description="Printed in 62/01; ASCII.")
    expires_in_seconds: int = Field(
        services.DYNAMIC_QR_SECONDS,
        ge=services.DYNAMIC_QR_MIN_SECONDS,
        le=services.DYNAMIC_QR_MAX_SECONDS,
    )


class DynamicQrOut(Schema):
    id: uuid.UUID
    reference: str = Field(description="The issued request's reference, in the payload's 62/05.")
    merchant_code: str
    amount: MoneyOut
    bill_number: str
    state: str = Field(description="open, paid or expired.")
    expires_at: dt.datetime
    order_id: uuid.UUID | None = Field(description="The order that paid it.")
    paid_at: dt.datetime | None
    created_at: dt.datetime
    payload: str = Field(description="The EMVCo payload to show as a QR code.")


def _dynamic_qr(view: DynamicQrView) -> DynamicQrOut:
    return DynamicQrOut(
        id=view.qr_id,
        reference=view.reference,
        merchant_code=view.merchant_code,
        amount=money_out(view.amount),
        bill_number=view.bill_number,
        state=view.state,
        expires_at=view.expires_at,
        order_id=view.order_id,
        paid_at=view.paid_at,
        created_at=view.created_at,
        payload=view.payload,
    )


@router.post(
    "/partner/qr/dynamic",
    response={201: DynamicQrOut},
    summary="Issue a dynamic QR code for a bill (merchants' partners)",
)
@command(idempotent=True)
def issue_dynamic_qr(request: HttpRequest, payload: DynamicQrIn) -> Status[DynamicQrOut]:
    """A merchant's cashier issues a one-time QR code for a bill: OAuth2 client credentials
    with the ``payments`` scope, for the partner's own merchants only. The customer pays
    exactly the issued amount, once, before ``expires_at``; a code whose amount was altered
    is refused (``qr_tampered``)."""
    view = services.do_partner_issue_dynamic_qr(
        principal(request),
        merchant_code=payload.merchant_code,
        amount=Money.parse(payload.amount, payload.currency),
        bill_number=payload.bill_number,
        expires_in_seconds=payload.expires_in_seconds,
    )
    return Status(201, _dynamic_qr(view))


@router.get(
    "/partner/qr/dynamic/{qr_id}",
    response=DynamicQrOut,
    summary="An issued dynamic QR code and whether it is paid (merchants' partners)",
)
def get_dynamic_qr(request: HttpRequest, qr_id: uuid.UUID) -> DynamicQrOut:
    return _dynamic_qr(queries.partner_dynamic_qr(principal(request), qr_id))


# ------------------------------------------------------------------ staff
class SearchIn(Schema):
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    state: str = ""
    rail: str = ""
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    limit: int = Field(100, ge=1, le=500)


@router.get("/staff/orders", response=list[OrderOut], summary="Staff: search payment orders")
def search_orders(request: HttpRequest, filters: Query[SearchIn]) -> list[OrderOut]:
    found = queries.search_orders(principal(request), queries.OrderSearch(**filters.dict()))
    return [_order(v) for v in found]


class RefundIn(Schema):
    model_config = ConfigDict(extra="forbid")
    amount: str
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    reason: str = Field("", max_length=140)


@router.post(
    "/staff/orders/{order_id}/refund", response=OrderOut, summary="Staff: refund a QR payment"
)
@command(idempotent=True)
def refund(request: HttpRequest, order_id: uuid.UUID, payload: RefundIn) -> OrderOut:
    who = principal(request)
    check_permission(who, Action.PAYMENT_MANAGE)
    view = services.do_refund(
        who, order_id, Money.parse(payload.amount, payload.currency), reason=payload.reason
    )
    return _order(view)
