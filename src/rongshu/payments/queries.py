"""The payments read side: orders as the principal may see them, payees, merchants, QR
decoding, receipts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Q

from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal, PrincipalKind
from rongshu.kernel.audit import do_audit
from rongshu.kernel.money import Money, chinese_uppercase
from rongshu.payments import dynamic_qr, qr
from rongshu.payments.errors import PaymentNotFound
from rongshu.payments.models import DynamicQr, Merchant, Payee, PaymentOrder
from rongshu.payments.projections import merchant_view, order_view, payee_view
from rongshu.payments.types import DecodedQr, DynamicQrView, MerchantView, OrderView, PayeeView


def access_order(principal: Principal, order_id: uuid.UUID | str) -> OrderView:
    """One order with its history: its customer, or staff with ``payment.view`` (audited).
    Anyone else gets "not found" (nothing disclosed)."""
    try:
        order_uuid = uuid.UUID(str(order_id))
    except ValueError as exc:
        raise PaymentNotFound() from exc
    if principal.kind is PrincipalKind.STAFF:
        identity.check_permission(principal, Action.PAYMENT_VIEW)
    order = PaymentOrder.objects.select_related("merchant").filter(public_id=order_uuid).first()
    if order is None:
        raise PaymentNotFound()
    if principal.kind is PrincipalKind.CUSTOMER:
        if principal.customer_id is None or order.customer_id != principal.customer_id:
            do_audit(
                principal.principal_key,
                "payments.access_denied",
                object_type="payment_order",
                object_id=str(order_uuid),
            )
            raise PaymentNotFound()
    elif principal.kind is PrincipalKind.STAFF:
        do_audit(
            principal.principal_key,
            "payments.order_viewed",
            object_type="payment_order",
            object_id=str(order_uuid),
        )
    else:
        raise PaymentNotFound()
    return order_view(order, history=True)


def list_my_orders(principal: Principal, *, limit: int = 50) -> list[OrderView]:
    if principal.kind is not PrincipalKind.CUSTOMER or principal.customer_id is None:
        return []
    rows = (
        PaymentOrder.objects.select_related("merchant")
        .filter(customer_id=principal.customer_id)
        .order_by("-created_at", "-pk")[: max(1, min(limit, 200))]
    )
    return [order_view(o) for o in rows]


@dataclass(frozen=True)
class OrderSearch:
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    state: str = ""
    rail: str = ""
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    limit: int = 100


def search_orders(principal: Principal, search: OrderSearch) -> list[OrderView]:
    """Staff search (``payment.view``); every search is audited."""
    identity.check_permission(principal, Action.PAYMENT_VIEW)
    qs = PaymentOrder.objects.select_related("merchant").order_by("-created_at", "-pk")
    if search.order_id:
        qs = qs.filter(public_id=search.order_id)
    if search.customer_id:
        qs = qs.filter(customer_id=search.customer_id)
    if search.state:
        qs = qs.filter(state=search.state)
    if search.rail:
        qs = qs.filter(rail=search.rail)
    if search.created_from:
        qs = qs.filter(created_at__date__gte=search.created_from)
    if search.created_to:
        qs = qs.filter(created_at__date__lte=search.created_to)
    do_audit(
        principal.principal_key,
        "payments.orders_searched",
        object_type="payment_order",
        data={
            "order_id": str(search.order_id or ""),
            "customer_id": str(search.customer_id or ""),
            "state": search.state,
            "rail": search.rail,
        },
    )
    return [order_view(o) for o in qs[: max(1, min(search.limit, 500))]]


def list_payees(principal: Principal) -> list[PayeeView]:
    if principal.customer_id is None:
        return []
    return [
        payee_view(p)
        for p in Payee.objects.filter(customer_id=principal.customer_id).order_by("name", "pk")
    ]


def find_merchant(merchant_code: str) -> MerchantView | None:
    merchant = Merchant.objects.filter(merchant_code=merchant_code).first()
    return merchant_view(merchant) if merchant else None


# an issued dynamic QR of one of a partner's own merchants (others: dynamic_qr_not_found)
partner_dynamic_qr = dynamic_qr.partner_dynamic_qr


def list_dynamic_qrs(merchant_code: str, *, limit: int = 20) -> list[DynamicQrView]:
    """A merchant's latest issued dynamic QR codes, newest first (its state as
    ``dynamic_qr.state_of`` reads it: an open one past its expiry is ``expired``). For the
    staff console and the demo; callers check who may see them."""
    return _latest_dynamic_qrs(Q(merchant__merchant_code=merchant_code), limit)


def list_partner_merchants(principal: Principal) -> list[MerchantView]:
    """The merchants a partner client may issue dynamic QR codes for (its own, the rule of
    ``do_partner_issue_dynamic_qr``; without the ``payments`` scope: ``insufficient_scope``),
    by merchant code."""
    merchants = dynamic_qr.partner_merchants(principal).order_by("merchant_code")
    return [merchant_view(m) for m in merchants]


def list_partner_dynamic_qrs(principal: Principal, *, limit: int = 20) -> list[DynamicQrView]:
    """The latest dynamic QR codes of a partner client's own merchants, newest first (as
    :func:`list_dynamic_qrs`; without the ``payments`` scope: ``insufficient_scope``)."""
    return _latest_dynamic_qrs(Q(merchant__in=dynamic_qr.partner_merchants(principal)), limit)


def _latest_dynamic_qrs(which: Q, limit: int) -> list[DynamicQrView]:
    rows = (
        DynamicQr.objects.select_related("merchant", "order")
        .filter(which)
        .order_by("-created_at", "-pk")[: max(1, min(limit, 200))]
    )
    return [dynamic_qr.dynamic_qr_view(row) for row in rows]


def find_dynamic_qr(merchant_code: str, qr_id: uuid.UUID) -> DynamicQrView | None:
    """One issued dynamic QR of the merchant (another merchant's, or none: ``None``)."""
    row = (
        DynamicQr.objects.select_related("merchant", "order")
        .filter(public_id=qr_id, merchant__merchant_code=merchant_code)
        .first()
    )
    return dynamic_qr.dynamic_qr_view(row) if row is not None else None


def decode_qr(payload: str) -> DecodedQr:
    """Decode and verify a merchant QR (bad CRC: ``qr_bad_crc``) and say if it is ours. A
    dynamic code of ours is checked against the request the bank issued (not issued:
    ``qr_unknown``, another amount: ``qr_tampered``) and shows the issued amount, bill
    number, state and expiry; a paid or expired one is refused only when paid
    (``services.do_pay_merchant_qr``), so a replayed payment still answers its order."""
    decoded = qr.decode(payload)
    code = decoded.rongshu_merchant_id
    merchant = Merchant.objects.filter(merchant_code=code).first() if code else None
    currency = decoded.currency
    amount = None
    if decoded.amount is not None and currency is not None and len(currency) == 3:
        amount = Money.parse(decoded.amount, currency)
    issued = dynamic_qr.issued_for(merchant, decoded) if merchant is not None else None
    if issued is not None:
        amount = Money(issued.amount_minor, issued.currency)
        currency = issued.currency
    return DecodedQr(
        merchant_code=code,
        merchant_name=merchant.name if merchant else decoded.merchant_name,
        amount=amount,
        currency=currency,
        dynamic=decoded.is_dynamic,
        reference=decoded.reference,
        ours=merchant is not None,
        bill_number=(issued.bill_number or None) if issued is not None else None,
        state=dynamic_qr.state_of(issued) if issued is not None else None,
        expires_at=issued.expires_at if issued is not None else None,
    )


@dataclass(frozen=True)
class Receipt:
    order: OrderView
    amount_uppercase: str
    fee_uppercase: str
    total: Money


def get_receipt(principal: Principal, order_id: uuid.UUID | str) -> Receipt:
    """What a receipt shows (the amount in 大写金额 for CNY)."""
    order = access_order(principal, order_id)
    total = order.amount + order.fee
    upper = chinese_uppercase(order.amount) if order.amount.currency == "CNY" else ""
    fee_upper = chinese_uppercase(order.fee) if order.fee.currency == "CNY" else ""
    return Receipt(order=order, amount_uppercase=upper, fee_uppercase=fee_upper, total=total)


# the receipt as PDF (rongshu.payments.receipt_pdf), part of this read API
from rongshu.payments.receipt_pdf import ReceiptNotReady as ReceiptNotReady  # noqa: E402
from rongshu.payments.receipt_pdf import receipt_pdf as receipt_pdf  # noqa: E402
