"""Quick pay in headless Chromium at phone width: a customer binds an account to a merchant
(consent, then the one-time code from the SMS simulator), the merchant debits it through the
partner service, the customer sees the debit, lowers the limits and cancels the binding."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rongshu.identity import services as identity
from rongshu.ledger import services as ledger
from rongshu.payments import quickpay, services
from rongshu.payments.models import QuickPayBinding
from tests.browser.conftest import screenshot
from tests.payments.conftest import account_numbers, balance, cny, make_payer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures(account_numbers.__name__),
]


def test_customer_binds_with_a_one_time_code_and_sees_the_debits(page: Any) -> None:
    ledger.do_create_chart_of_accounts(["CNY"])
    payer = make_payer(name="张三", balance=1_000_00)
    owner = make_payer(name="榕树商城", balance=0)
    creds = identity.do_create_client("Banyan Mall", ["quickpay"])
    partner = identity.principal_for_token(
        identity.do_issue_client_token(creds.client_id, creds.client_secret).access_token
    )
    assert partner is not None
    services.do_create_merchant(
        merchant_code="QPWEB",
        name="榕树商城",
        city="Shenzhen",
        ledger_account_id=owner.account.public_id,
        partner_client_id=creds.client_id,
    )
    quickpay.do_enable_merchant("QPWEB", max_per_transaction=cny("300"), max_daily=cny("500"))

    page.goto(page.base_url + "/me/payments/quickpay/")
    assert "/signin/" in page.url
    page.fill("#signin input[name=phone]", payer.customer.phone)
    page.fill("#signin input[name=password]", payer.customer.password)
    with page.expect_navigation():
        page.click("#signin button[type=submit]")
    assert page.url.endswith("/me/payments/quickpay/")
    assert page.locator("#quickpay-bindings li[data-state]").count() == 0

    page.fill("#quickpay-bind input[name=per_transaction]", "200.00")
    page.check("#quickpay-bind input[name=consent]")
    screenshot(page, "quickpay-bind")
    with page.expect_navigation():
        page.click("#quickpay-bind button[type=submit]")
    assert page.locator("#binding-state").get_attribute("data-state") == "pending"

    code = identity.latest_code(payer.customer.phone)  # the SMS simulator's outbox
    assert code is not None
    page.fill("#quickpay-confirm input[name=code]", "111111" if code != "111111" else "222222")
    with page.expect_navigation():
        page.click("#quickpay-confirm button[type=submit]")
    assert page.locator("#confirm-error").is_visible()  # a wrong code is refused in the page
    page.fill("#quickpay-confirm input[name=code]", code)
    with page.expect_navigation():
        page.click("#quickpay-confirm button[type=submit]")
    assert page.locator("#binding-state").get_attribute("data-state") == "active"
    assert "200.00" in page.locator("#limit-per-transaction").inner_text()

    binding = QuickPayBinding.objects.get()
    _view, token = quickpay.do_issue_binding_token(partner, binding.public_id)
    quickpay.do_debit(
        partner,
        binding_token=token,
        amount=cny("66.60"),
        client_order_id="WEB-1",
        description="榕树商城 订单 WEB-1",
    )
    assert balance(payer.account) == 1_000_00 - 66_60
    page.reload()
    first = page.locator("#quickpay-debits li").first
    assert "66.60" in first.inner_text() and "WEB-1" in first.inner_text()
    screenshot(page, "quickpay-binding")

    page.fill("#quickpay-limits input[name=per_transaction]", "500.00")  # raising is refused
    with page.expect_navigation():
        page.click("#quickpay-limits button[type=submit]")
    assert page.locator("#limits-error").is_visible()
    page.fill("#quickpay-limits input[name=per_transaction]", "50.00")
    with page.expect_navigation():
        page.click("#quickpay-limits button[type=submit]")
    assert "50.00" in page.locator("#limit-per-transaction").inner_text()

    with page.expect_navigation():
        page.click("#quickpay-unbind button[type=submit]")
    assert page.url.endswith("/me/payments/quickpay/")
    assert page.locator("#quickpay-bindings li").first.get_attribute("data-state") == "revoked"
    assert QuickPayBinding.objects.get().state == "revoked"
