"""The electronic payment receipt (电子回单) as a PDF, built with :mod:`rongshu.kernel.pdf`
from what :func:`rongshu.payments.queries.get_receipt` returns (the same fields as the HTML
receipt, labels in 中文 / English). Printed time is the settlement time and the document id is
the order id, so a receipt downloads as the same bytes every time. The verification code is
derived from the order id and settlement time with the site's secret key (HMAC), so staff
can recompute it from the order."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rongshu.identity.types import Principal
from rongshu.kernel import clock
from rongshu.kernel.errors import RuleViolation
from rongshu.kernel.pdf import PdfDocument, render_pdf

if TYPE_CHECKING:
    from rongshu.payments.queries import Receipt

RECEIPT_STATES = ("settled", "returned")
STATE_LABELS = {"settled": "已完成 Completed", "returned": "已退回 Returned"}


class ReceiptNotReady(RuleViolation):
    code = "receipt_not_ready"
    title = _("A receipt is available once the payment is completed.")


def receipt_code(order_id: uuid.UUID, settled_at: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"receipt:{order_id}:{settled_at}".encode(), hashlib.sha256
    ).hexdigest()[:16]
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4)).upper()


def _mask(number: str) -> str:
    return f"{number[:4]} **** {number[-4:]}" if len(number) > 8 else number


def receipt_document(found: Receipt) -> PdfDocument:
    o = found.order
    if o.state not in RECEIPT_STATES or o.settled_at is None:
        raise ReceiptNotReady()
    zone = clock.bank_zone()
    fields = [
        ("付款人 Payer", o.debtor_name or "—"),
        ("收款人 Payee", o.merchant_name or o.creditor_name or "—"),
    ]
    if o.creditor_account_number:
        bank = f" · {o.creditor_bank_code}" if o.creditor_bank_code else ""
        fields.append(("收款账号 Payee account", _mask(o.creditor_account_number) + bank))
    fields.append(("金额 Amount", f"{o.amount.currency} {o.amount.amount_str()}"))
    if found.amount_uppercase:
        fields.append(("大写金额 Amount in words", found.amount_uppercase))
    fee = f"{o.fee.currency} {o.fee.amount_str()}"
    if found.fee_uppercase and o.fee.minor:
        fee += f" ({found.fee_uppercase})"
    fields += [
        ("手续费 Fee", fee),
        ("合计 Total", f"{found.total.currency} {found.total.amount_str()}"),
        ("类型 Type", o.rail),
    ]
    if o.remittance_info:
        fields.append(("附言 Note", o.remittance_info))
    fields += [
        ("状态 Status", STATE_LABELS.get(o.state, o.state)),
        ("完成时间 Completed", f"{o.settled_at.astimezone(zone):%Y-%m-%d %H:%M:%S}"),
        ("订单号 Order number", str(o.order_id)),
    ]
    return PdfDocument(
        title="电子回单 Electronic payment receipt",
        generated_at=o.settled_at,
        time_zone=zone,
        document_id=str(o.order_id),
        verification_code=receipt_code(o.order_id, o.settled_at.isoformat()),
        highlight=(
            (
                "金额 Amount",
                f"{o.amount.currency} {o.amount.amount_str()}",
            ),
        ),
        fields=fields,
        notes=(
            "本回单仅证明我行已按付款人指令办理支付，不作为收款方收款依据。This receipt shows that "
            "the bank carried out the payer's order; it does not prove receipt by the payee.",
        ),
    )


def receipt_pdf(principal: Principal, order_id: uuid.UUID | str) -> bytes:
    """The order's receipt as PDF bytes (its customer, or staff with ``payment.view``);
    refused with ``receipt_not_ready`` until the payment is settled or returned. Public as
    ``rongshu.payments.queries.receipt_pdf``."""
    from rongshu.payments.queries import get_receipt

    return render_pdf(receipt_document(get_receipt(principal, order_id)))
