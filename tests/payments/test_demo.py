"""The payments demo step: idempotent, a merchant QR that decodes, an issued bill QR code, a
payee, settled payments."""

from __future__ import annotations

import pytest

from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.models import Transfer
from rongshu.payments import qr
from rongshu.payments.models import DynamicQr, Merchant, Payee, PaymentOrder
from rongshu.simulation.accounts_demo import load_accounts_demo
from rongshu.simulation.identity_demo import load_identity_demo
from rongshu.simulation.ledger_demo import load_ledger_demo
from rongshu.simulation.payments_demo import MERCHANT_CODE, load_payments_demo

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
