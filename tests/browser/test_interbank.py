"""Interbank transfer in headless Chromium against the real clearing simulator (not the fake):
a customer sends money to an account at another bank, sees the order sent to the other bank,
the network answers, and after a reload the order is completed and the balance dropped by the
amount plus the fee."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from rongshu.kernel import clock
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.payments import clearing, interbank, services
from rongshu.payments.clearing.models import SimPayment
from rongshu.payments.limits import FeeTier
from rongshu.payments.models import PaymentOrder
from tests.browser.conftest import screenshot
from tests.browser.test_payments import sign_in
from tests.payments.conftest import balance, make_payer
from tests.payments_clearing.conftest import QUIET

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BANK, ACCOUNT, HOLDER = "102100099996", "6222020200001234567", "张伟"  # simulator directory
AMOUNT_MINOR, FEE_MINOR = 1_234_56, 1_50  # below the ¥5,000 step-up threshold


def seed_clearing_directory() -> None:
    """Transactional tests flush data migrations: re-run the simulator's (idempotent) seed."""
    migration = importlib.import_module("rongshu.payments.clearing.migrations.0002_seed_directory")
    migration.seed(apps, None)


def test_transfer_to_another_bank_settles(page: Any, settings: Any) -> None:
    settings.RONGSHU_CLEARING_SIMULATOR = dict(QUIET)  # no faults; answers within 1-3 s
    settings.RONGSHU_PAYMENT_FEES = {"interbank:ibps": (FeeTier(None, FEE_MINOR),)}
    ledger.do_create_chart_of_accounts(("CNY",))
    seed_clearing_directory()
    real: Any = clearing  # the module implements interbank.ClearingApi
    interbank.use_clearing(real)  # the real package, with the payments callback registered
    try:
        payer = make_payer(name="林小榕", balance=10_000_00)
        start = balance(payer.account)
        sign_in(page, payer.customer.phone, payer.customer.password, "/me/payments/transfer/")

        form = "#transfer-form"
        page.check(f"{form} input[name=destination][value=other]")
        page.fill(f"{form} input[name=account_number]", ACCOUNT)
        page.fill(f"{form} input[name=name]", HOLDER)
        page.fill(f"{form} input[name=bank_code]", BANK)
        page.fill(f"{form} input[name=amount]", "1234.56")
        page.fill(f"{form} input[name=remittance_info]", "房租")
        with page.expect_navigation():
            page.click(f"{form} button[type=submit]")

        assert "/me/payments/" in page.url
        state = page.locator("#order-state")
        assert state.get_attribute("data-state") == "submitted"  # sent after commit
        assert "已发往他行" in state.inner_text()
        order = PaymentOrder.objects.get(debit_account_id=payer.account.public_id)
        assert (order.rail, order.network, order.state) == ("interbank", "ibps", "submitted")
        assert (order.amount_minor, order.fee_minor) == (AMOUNT_MINOR, FEE_MINOR)
        assert SimPayment.objects.filter(instruction_id=order.public_id.hex).exists()
        assert balance(payer.account) == start  # only held so far

        # The network answers a few seconds later (simulator delays use the kernel clock).
        with clock.frozen_time(clock.now() + dt.timedelta(minutes=5)):
            services.do_submit_pending()
            assert clearing.process_inbound() >= 1

        page.reload()
        state = page.locator("#order-state")
        assert state.get_attribute("data-state") == "settled"
        assert state.inner_text().strip() == "已完成"
        assert page.locator("#open-receipt").is_visible()
        screenshot(page, "interbank-settled")

        order.refresh_from_db()
        assert order.state == "settled"
        assert balance(payer.account) == start - (AMOUNT_MINOR + FEE_MINOR)
        assert ledger_queries.get_trial_balance("CNY").balanced
    finally:
        interbank.use_clearing(None)
