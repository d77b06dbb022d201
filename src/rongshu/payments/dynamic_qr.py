"""Dynamic merchant QR codes (EMVCo point of initiation ``12``) as the bank issues them.

A dynamic code's CRC is no signature: anyone can change the amount in tag 54 (or put his own
merchant in template 26) and recompute it. So, as UnionPay and EMVCo acquirers do, a dynamic
code is a *collection request* the bank issues for a merchant (:class:`DynamicQr`: amount,
currency, the merchant's bill number, expiry, single use) and the payload only refers to it:
its reference travels in the reference label 62/05 (at most 25 characters), the bill number
in 62/01. When a customer pays (``services.do_pay_merchant_qr``):

- the issued request is looked up by reference *and* merchant; none: ``qr_unknown``;
- the payload's amount and currency must be the issued ones: else ``qr_tampered`` (nothing
  is held or moved);
- in the order's transaction the request's row is locked; paid: ``qr_already_paid``, past
  its expiry: ``qr_expired``; the order is made with the *stored* amount and the request is
  marked paid by one conditional UPDATE (``… WHERE state = 'open' AND expires_at > now``),
  so of two concurrent payers exactly one wins.

A replay with the same ``Idempotency-Key`` answers the order that paid the code.
Static codes (no amount, no issued request) take the amount the customer enters.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid

from django.db import transaction
from django.db.models import QuerySet

from rongshu.identity import services as identity
from rongshu.identity.types import PartnerScope, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import InvalidInput
from rongshu.kernel.money import Money
from rongshu.ledger import queries as ledger_queries
from rongshu.payments import qr
from rongshu.payments.errors import (
    DynamicQrNotFound,
    MerchantUnknown,
    PaymentRefused,
    QrAlreadyPaid,
    QrExpired,
    QrTampered,
    QrUnknown,
)
from rongshu.payments.models import DynamicQr, Merchant, PaymentOrder
from rongshu.payments.types import DynamicQrView

DEFAULT_SECONDS = 15 * 60
MIN_SECONDS = 60
MAX_SECONDS = 24 * 60 * 60
REFERENCE_PREFIX = "RQ"
# EMVCo 62/01 (bill number) is "ans" of up to 25 characters: printable ASCII here
_BILL_NUMBER = re.compile(r"[\x20-\x7e]{1,25}")


def _new_reference() -> str:
    """``RQ`` and 22 hex digits (88 random bits): 24 characters, within 62/05's 25."""
    return REFERENCE_PREFIX + secrets.token_hex(11).upper()


def payload_of(row: DynamicQr) -> str:
    merchant = row.merchant
    return qr.merchant_payload(
        merchant_id=merchant.merchant_code,
        name=merchant.name,
        city=merchant.city,
        mcc=merchant.mcc,
        currency=row.currency,
        amount=Money(row.amount_minor, row.currency).amount_str(),
        reference=row.reference,
        bill_number=row.bill_number or None,
    )


def state_of(row: DynamicQr, now: dt.datetime | None = None) -> str:
    """The stored state, except that an open request past its expiry reads ``expired``
    (the end-of-day job stores it, :func:`do_expire_dynamic_qrs`)."""
    if row.state == DynamicQr.OPEN and row.expires_at <= (now or clock.now()):
        return DynamicQr.EXPIRED
    return row.state


def dynamic_qr_view(row: DynamicQr) -> DynamicQrView:
    return DynamicQrView(
        qr_id=row.public_id,
        reference=row.reference,
        merchant_code=row.merchant.merchant_code,
        amount=Money(row.amount_minor, row.currency),
        bill_number=row.bill_number,
        state=state_of(row),
        expires_at=row.expires_at,
        order_id=row.order.public_id if row.order is not None else None,
        paid_at=row.paid_at,
        created_at=row.created_at,
        payload=payload_of(row),
    )


# ------------------------------------------------------------------ issue
def do_issue_dynamic_qr(
    *,
    merchant_code: str,
    amount: Money,
    bill_number: str = "",
    expires_in_seconds: int = DEFAULT_SECONDS,
    actor: str,
) -> DynamicQrView:
    """Issue a dynamic QR for a merchant of ours: a collection request of ``amount``,
    payable once before it expires. The payload refers to it (62/05)."""
    if not amount.is_positive:
        raise InvalidInput("The amount must be greater than zero.", code="amount_must_be_positive")
    if amount.currency not in qr.NUMERIC_CURRENCY:
        raise InvalidInput("This currency cannot be printed in a QR code.", code="qr_currency")
    bill_number = bill_number.strip()
    if bill_number and not _BILL_NUMBER.fullmatch(bill_number):
        raise InvalidInput(
            "A bill number has 1 to 25 printable ASCII characters.", code="qr_bill_number"
        )
    if not MIN_SECONDS <= expires_in_seconds <= MAX_SECONDS:
        raise InvalidInput(
            f"A QR code is valid for {MIN_SECONDS} to {MAX_SECONDS} seconds.",
            code="qr_expiry",
        )
    merchant = Merchant.objects.filter(merchant_code=merchant_code).first()
    if merchant is None:
        raise MerchantUnknown("Unknown merchant.")
    account = ledger_queries.find_account(merchant.ledger_account_id)
    if account is None or account.currency != amount.currency:
        raise InvalidInput("The merchant cannot receive this currency.", code="currency_mismatch")
    now = clock.now()
    with transaction.atomic():
        row = DynamicQr.objects.create(
            reference=_new_reference(),
            merchant=merchant,
            amount_minor=amount.minor,
            currency=amount.currency,
            bill_number=bill_number,
            expires_at=now + dt.timedelta(seconds=expires_in_seconds),
            created_by=actor[:120],
            created_at=now,
        )
        do_audit(
            actor,
            "payments.dynamic_qr_issued",
            object_type="dynamic_qr",
            object_id=str(row.public_id),
            data={
                "merchant": merchant.merchant_code,
                "amount": amount.amount_str(),
                "currency": amount.currency,
                "bill_number": bill_number,
            },
        )
    return dynamic_qr_view(row)


def partner_merchants(principal: Principal) -> QuerySet[Merchant]:
    """The merchants a partner client issues and reads dynamic QR codes for: its own
    (``Merchant.partner_client_id``), and only with the ``payments`` scope (else
    ``insufficient_scope``)."""
    identity.check_scope(principal, PartnerScope.PAYMENTS)
    return Merchant.objects.filter(partner_client_id=principal.partner_client_id or "-")


def check_partner_merchant(principal: Principal, merchant_code: str) -> None:
    """``merchant_code`` is one of the partner's own merchants (:func:`partner_merchants`),
    else ``merchant_unknown`` — another partner's merchant is not told apart from none."""
    if not partner_merchants(principal).filter(merchant_code=merchant_code).exists():
        raise MerchantUnknown("Unknown merchant.")


def do_partner_issue_dynamic_qr(
    principal: Principal,
    *,
    merchant_code: str,
    amount: Money,
    bill_number: str = "",
    expires_in_seconds: int = DEFAULT_SECONDS,
) -> DynamicQrView:
    """A merchant's cashier system (its partner client, scope ``payments``) issues a dynamic
    QR for one of the partner's own merchants."""
    check_partner_merchant(principal, merchant_code)
    return do_issue_dynamic_qr(
        merchant_code=merchant_code,
        amount=amount,
        bill_number=bill_number,
        expires_in_seconds=expires_in_seconds,
        actor=principal.principal_key,
    )


def partner_dynamic_qr(principal: Principal, qr_id: uuid.UUID) -> DynamicQrView:
    """An issued code of one of the partner's own merchants (others: not found)."""
    row = (
        DynamicQr.objects.select_related("merchant", "order")
        .filter(public_id=qr_id, merchant__in=partner_merchants(principal))
        .first()
    )
    if row is None:
        raise DynamicQrNotFound()
    return dynamic_qr_view(row)


# ------------------------------------------------------------------ pay
def requires_issue(decoded: qr.QrPayload) -> bool:
    """A code of ours that is dynamic, or carries an amount, is payable only as issued."""
    return decoded.is_dynamic or decoded.amount is not None


def issued_for(merchant: Merchant, decoded: qr.QrPayload) -> DynamicQr | None:
    """The issued request a code of ``merchant`` refers to (None for a static code).
    Unknown (or another merchant's): ``qr_unknown``; an amount or currency that is not the
    issued one: ``qr_tampered``. Its state is checked under lock by :func:`lock_open`."""
    if not requires_issue(decoded):
        return None
    reference = decoded.reference
    row = (
        DynamicQr.objects.filter(reference=reference, merchant=merchant).first()
        if reference
        else None
    )
    if row is None:
        raise QrUnknown("No QR code with this reference was issued for this merchant.")
    try:
        given = (
            Money.parse(decoded.amount, decoded.currency or "CNY")
            if decoded.amount is not None
            else None
        )
    except InvalidInput as exc:
        raise QrTampered("The amount in the QR code is not valid.") from exc
    if given is None or given != Money(row.amount_minor, row.currency):
        raise QrTampered("The amount in the QR code is not the amount the merchant issued.")
    return row


def lock_open(row: DynamicQr, now: dt.datetime) -> None:
    """Lock the issued request's row (in the caller's transaction) and refuse it when paid
    or expired."""
    fresh = DynamicQr.objects.select_for_update().get(pk=row.pk)
    if fresh.state == DynamicQr.PAID:
        raise QrAlreadyPaid("This QR code has already been paid.")
    if state_of(fresh, now) == DynamicQr.EXPIRED:
        raise QrExpired("This QR code has expired.")


def mark_paid(row: DynamicQr, order: PaymentOrder, now: dt.datetime) -> None:
    """Mark the request paid by ``order``, in the order's transaction: one conditional
    UPDATE, so a concurrent payer that got past :func:`lock_open` (no row locks on SQLite)
    cannot mark it too; the loser raises and its whole order rolls back."""
    claimed = DynamicQr.objects.filter(pk=row.pk, state=DynamicQr.OPEN, expires_at__gt=now).update(
        state=DynamicQr.PAID, order=order, paid_at=now
    )
    if claimed != 1:
        fresh = DynamicQr.objects.get(pk=row.pk)
        if fresh.state == DynamicQr.PAID:
            raise QrAlreadyPaid("This QR code has already been paid.")
        raise QrExpired("This QR code has expired.")


def check_replay(row: DynamicQr, order: PaymentOrder) -> None:
    """An order answered for an ``Idempotency-Key`` must be the one that paid this code."""
    paid_by = DynamicQr.objects.filter(pk=row.pk).values_list("order_id", flat=True).first()
    if paid_by != order.pk:
        raise PaymentRefused(
            "This key was already used for a different payment.", code="idempotency_key_reused"
        )


def remittance_of(row: DynamicQr) -> str:
    return row.bill_number or row.reference


# ------------------------------------------------------------------ expire
def do_expire_dynamic_qrs(now: dt.datetime | None = None) -> int:
    """Store ``expired`` on the open requests past their expiry (one UPDATE; a payment in
    flight either marked its request paid first or finds it expired). Returns how many."""
    now = now or clock.now()
    return DynamicQr.objects.filter(state=DynamicQr.OPEN, expires_at__lte=now).update(
        state=DynamicQr.EXPIRED
    )
