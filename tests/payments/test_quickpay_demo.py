"""The quick-pay demo step: the demo customer bound to the partner merchant through the real
flow, three debits and a refund; a second run changes nothing."""

from __future__ import annotations

import pytest

from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.models import Transfer
from rongshu.payments.models import PaymentOrder, QuickPayBinding, QuickPayDebit, Refund
from rongshu.simulation.accounts_demo import load_accounts_demo
from rongshu.simulation.identity_demo import load_identity_demo
from rongshu.simulation.ledger_demo import load_ledger_demo
from rongshu.simulation.payments_demo import load_payments_demo
from rongshu.simulation.quickpay_demo import MERCHANT_CODE, load_quickpay_demo

pytestmark = pytest.mark.django_db


def test_quickpay_demo_binds_the_demo_customer_and_is_idempotent() -> None:
    assert load_quickpay_demo().startswith("skipped")
    load_identity_demo()
    load_ledger_demo()
    load_accounts_demo()
    load_payments_demo()
    first = load_quickpay_demo()
    assert "3 debits" in first
    counts = (
        Transfer.objects.count(),
        PaymentOrder.objects.count(),
        QuickPayBinding.objects.count(),
    )
    second = load_quickpay_demo()
    assert "already bound" in second and "(3 debits)" in second
    assert (
        Transfer.objects.count(),
        PaymentOrder.objects.count(),
        QuickPayBinding.objects.count(),
    ) == counts
    binding = QuickPayBinding.objects.get()
    assert (binding.state, binding.merchant.merchant_code) == ("active", MERCHANT_CODE)
    assert binding.token_hash and not binding.token_hash.startswith("qpt_")  # a digest only
    assert QuickPayDebit.objects.count() == 3
    assert Refund.objects.get().amount_minor == 28_00
    assert set(PaymentOrder.objects.filter(rail="quickpay").values_list("state", flat=True)) == {
        "settled"
    }
    assert ledger_queries.get_trial_balance().balanced
