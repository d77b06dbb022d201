"""The payment receipt as PDF: the web download and the API (the order's customer only; only
settled or returned orders), read back with the kernel builder's text extraction."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace

import pytest
from django.test import Client

from rongshu.kernel.pdf import extract_text
from rongshu.payments.models import PaymentOrder
from rongshu.payments.queries import ReceiptNotReady, get_receipt
from rongshu.payments.receipt_pdf import receipt_document
from tests.identity.builders import staff_client
from tests.payments.conftest import give_number, make_payer

pytestmark = pytest.mark.django_db


def test_receipt_pdf_web_and_api() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000301")
    client = staff_client(payer.customer.user_id)
    page = client.get("/me/payments/transfer/").content.decode()
    key = re.search(r'name="key" value="(web-[^"]+)"', page)
    assert key is not None
    form = {
        "key": key.group(1),
        "debit_account": str(payer.account.public_id),
        "destination": "ours",
        "account_number": number,
        "name": "李四",
        "bank_code": "",
        "amount": "1234.56",
        "remittance_info": "房租",
    }
    assert client.post("/me/payments/transfer/", form).status_code == 302
    order = PaymentOrder.objects.get()
    html = client.get(f"/me/payments/{order.public_id}/receipt/").content.decode()
    assert 'id="receipt-pdf"' in html
    pdf = client.get(f"/me/payments/{order.public_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    text = extract_text(pdf.content)
    assert "壹仟贰佰叁拾肆元伍角陆分" in text and "李四" in text and "房租" in text
    assert str(order.public_id) in text
    assert client.get(f"/me/payments/{order.public_id}/receipt.pdf").content == pdf.content
    api = client.get(f"/api/v1/payments/orders/{order.public_id}/receipt.pdf")
    assert api.status_code == 200 and api.content == pdf.content
    found = get_receipt(payer.principal, order.public_id)
    with pytest.raises(ReceiptNotReady):  # only settled or returned orders have a receipt
        receipt_document(dataclasses.replace(found, order=replace(found.order, state="submitted")))
    other = staff_client(make_payer(name="王五").customer.user_id)
    assert other.get(f"/me/payments/{order.public_id}/receipt.pdf").status_code == 404
    assert other.get(f"/api/v1/payments/orders/{order.public_id}/receipt.pdf").status_code == 404


def test_unknown_order_has_no_receipt_pdf() -> None:
    payer = make_payer()
    client: Client = staff_client(payer.customer.user_id)
    missing = client.get("/api/v1/payments/orders/00000000-0000-0000-0000-000000000000/receipt.pdf")
    assert missing.status_code == 404
