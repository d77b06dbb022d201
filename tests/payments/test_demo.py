"""The payments demo step: idempotent, a merchant QR that decodes, an issued bill QR code, a
payee, settled payments; the merchant's partner client signs in to the partner bill QR page."""

from __future__ import annotations

import pytest
from django.test import Client

from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.ledger.models import Transfer
from rongshu.payments import qr, services
from rongshu.payments.models import DynamicQr, Merchant, Payee, PaymentOrder
from rongshu.simulation.accounts_demo import load_accounts_demo
from rongshu.simulation.identity_demo import load_identity_demo
from rongshu.simulation.ledger_demo import load_ledger_demo
from rongshu.simulation.payments_demo import (
    CLIENT_ID,
    CLIENT_SECRET,
    MERCHANT_CODE,
    MERCHANT_OWNER,
    load_payments_demo,
)

pytestmark = pytest.mark.django_db


def test_payments_demo_is_idempotent_and_prints_the_static_qr() -> None:
    assert load_payments_demo().startswith("skipped")  # no demo customer yet
    load_identity_demo()
    load_ledger_demo()
    load_accounts_demo()
    first = load_payments_demo()
    counts = (Transfer.objects.count(), PaymentOrder.objects.count(), Payee.objects.count())
    second = load_payments_demo()
    assert (Transfer.objects.count(), PaymentOrder.objects.count(), Payee.objects.count()) == counts
    assert first == second
    payload = first.split("static QR payload: ")[1]
    assert qr.decode(payload).rongshu_merchant_id == MERCHANT_CODE
    assert Merchant.objects.filter(merchant_code=MERCHANT_CODE).count() == 1
    assert counts[1:] == (2, 1)
    assert set(PaymentOrder.objects.values_list("state", flat=True)) == {"settled"}
    assert "2 settled payments" in first
    assert ledger_queries.get_trial_balance().balanced

    # one bill QR code (a dynamic QR the bank issued), open, reused by the second run
    issued = DynamicQr.objects.get()
    assert (issued.state, issued.amount_minor, issued.bill_number) == ("open", 38_00, "DEMO-0001")
    bill_payload = first.split(" payload: ")[1].split(";")[0]
    decoded = qr.decode(bill_payload)
    assert decoded.is_dynamic and decoded.reference == issued.reference
    assert (decoded.amount, decoded.rongshu_merchant_id) == ("38.00", MERCHANT_CODE)


def test_the_demo_merchants_partner_signs_in_to_the_bill_qr_page() -> None:
    load_identity_demo()
    load_ledger_demo()
    load_accounts_demo()
    # the merchant as an earlier demo loaded it, without a partner
    shop = ledger.do_create_customer_account(owner_id=MERCHANT_OWNER, name="榕树茶馆 收款账户")
    services.do_create_merchant(
        merchant_code=MERCHANT_CODE,
        name="榕树茶馆",
        city="Shenzhen",
        ledger_account_id=shop.public_id,
    )
    first = load_payments_demo()
    assert f"partner client {CLIENT_ID} / {CLIENT_SECRET}" in first
    assert Merchant.objects.get(merchant_code=MERCHANT_CODE).partner_client_id == CLIENT_ID
    assert load_payments_demo() == first

    partner = Client()
    signin = partner.post(
        "/partners/qr/",
        {"action": "signin", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )
    assert signin.status_code == 302
    page = partner.get("/partners/qr/").content.decode()
    issued = DynamicQr.objects.get()
    assert f'data-merchant="{MERCHANT_CODE}"' in page
    assert f'data-reference="{issued.reference}" data-state="open"' in page
    assert "DEMO-0001" in page
