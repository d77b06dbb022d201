"""Payments in headless Chromium: a customer signs in, transfers to another customer's account
by its number, sees it settled in the history and opens the receipt; then pays a merchant's
static QR code. Staff issue a bill QR code (a dynamic QR) in the console; the customer pastes
it, sees its fixed amount and bill number and pays it; the console shows it paid. A merchant's
partner signs in to the partner portal with its API client and issues a bill QR code there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rongshu.identity.types import Role
from rongshu.ledger import services as ledger
from rongshu.payments import services
from rongshu.payments.models import DynamicQr, PaymentOrder
from tests.browser.conftest import screenshot
from tests.identity.builders import PASSWORD, make_partner, make_staff
from tests.payments.conftest import account_numbers, balance, give_number, make_payer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures(account_numbers.__name__),
]


def sign_in(page: Any, phone: str, password: str, target: str) -> None:
    page.goto(page.base_url + target)
    assert "/signin/" in page.url  # sent to sign in first
    page.fill("#signin input[name=phone]", phone)
    page.fill("#signin input[name=password]", password)
    with page.expect_navigation():
        page.click("#signin button[type=submit]")
    assert page.url.endswith(target)


def test_transfer_history_receipt_and_merchant_qr(page: Any) -> None:
    ledger.do_create_chart_of_accounts(["CNY"])  # an earlier transactional test may flush it
    payer, payee = make_payer(name="张三"), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000201")
    shop = make_payer(name="小店", balance=0)
    merchant = services.do_create_merchant(
        merchant_code="M0200",
        name="Banyan Tea",
        city="Shenzhen",
        ledger_account_id=shop.account.public_id,
    )
    sign_in(page, payer.customer.phone, payer.customer.password, "/me/payments/transfer/")

    page.fill("#transfer-form input[name=account_number]", number)
    page.fill("#transfer-form input[name=name]", "李四")
    page.fill("#transfer-form input[name=amount]", "88.80")
    page.fill("#transfer-form input[name=remittance_info]", "午餐")
    screenshot(page, "payments-transfer")
    with page.expect_navigation():
        page.click("#transfer-form button[type=submit]")
    assert page.locator("#order-state").get_attribute("data-state") == "settled"
    assert balance(payee.account) == 88_80

    page.click("nav.pay-nav a[href='/me/payments/']")
    page.wait_for_url("**/me/payments/")
    first = page.locator("#payment-history li").first
    assert "李四" in first.inner_text()
    assert first.locator("[data-state]").get_attribute("data-state") == "settled"
    with page.expect_navigation():
        first.locator("a").click()
    with page.expect_navigation():
        page.click("#open-receipt")
    assert page.locator("#receipt-uppercase").inner_text() == "捌拾捌元捌角整"
    screenshot(page, "payments-receipt")

    page.goto(page.base_url + "/me/payments/qr/")
    page.fill("#qr-decode textarea[name=payload]", merchant.static_payload)
    with page.expect_navigation():
        page.click("#qr-decode button[type=submit]")
    assert page.locator("#qr-merchant-name").inner_text() == "Banyan Tea"
    page.fill("#qr-confirm input[name=amount]", "16.00")
    screenshot(page, "payments-qr-confirm")
    with page.expect_navigation():
        page.click("#qr-confirm button[type=submit]")
    assert page.locator("#order-state").get_attribute("data-state") == "settled"
    assert balance(shop.account) == 16_00
    assert PaymentOrder.objects.filter(rail="qr", state="settled").count() == 1


def test_staff_issue_a_bill_qr_code_that_the_customer_pays(page: Any, browser: Any) -> None:
    ledger.do_create_chart_of_accounts(["CNY"])  # an earlier transactional test may flush it
    payer = make_payer(name="张三")
    shop = make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code="M0300",
        name="Banyan Noodles",
        city="Shenzhen",
        ledger_account_id=shop.account.public_id,
    )
    make_staff(Role.TELLER, username="browser-qr-teller")
    console_page = "/console/payments/merchants/M0300/qr/"

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    staff = context.new_page()
    try:
        staff.goto(page.base_url + console_page)
        assert "/console/signin/" in staff.url
        staff.fill("input[name=username]", "browser-qr-teller")
        staff.fill("input[name=password]", PASSWORD)
        staff.click("button[type=submit]")
        staff.wait_for_url("**" + console_page)
        assert staff.locator("#dynamic-qr-form input[name=minutes]").input_value() == "15"
        staff.fill("#dynamic-qr-form input[name=amount]", "38.00")
        staff.fill("#dynamic-qr-form input[name=bill_number]", "T-42")
        with staff.expect_navigation():
            staff.click("#dynamic-qr-form button[type=submit]")
        issued = DynamicQr.objects.get()
        assert staff.locator("#dynamic-qr-image svg").count() == 1
        row = staff.locator(f"#dynamic-qrs tr[data-reference='{issued.reference}']")
        assert row.get_attribute("data-state") == "open" and "待支付" in row.inner_text()
        payload = staff.locator("#dynamic-qr-payload").input_value()
        assert issued.reference in payload
        screenshot(staff, "payments-console-bill-qr")

        sign_in(page, payer.customer.phone, payer.customer.password, "/me/payments/qr/")
        page.fill("#qr-decode textarea[name=payload]", payload)
        with page.expect_navigation():
            page.click("#qr-decode button[type=submit]")
        assert page.locator("#qr-merchant-name").inner_text() == "Banyan Noodles"
        assert "38.00" in page.locator("#qr-amount").inner_text()
        assert page.locator("#qr-bill-number").inner_text() == "T-42"
        assert page.locator("#qr-confirm input[name=amount]").count() == 0  # the amount is fixed
        screenshot(page, "payments-bill-qr-confirm")
        with page.expect_navigation():
            page.click("#qr-confirm button[type=submit]")
        assert page.locator("#order-state").get_attribute("data-state") == "settled"
        assert balance(shop.account) == 38_00

        staff.reload()
        row = staff.locator(f"#dynamic-qrs tr[data-reference='{issued.reference}']")
        assert row.get_attribute("data-state") == "paid" and "已支付" in row.inner_text()
        assert staff.locator("#dynamic-qr-image").count() == 0  # paid: no image to show
        order = PaymentOrder.objects.get(rail="qr")
        with staff.expect_navigation():
            row.locator(f"a[href='/console/payments/{order.public_id}/']").click()
        assert staff.locator("#order-state").get_attribute("data-state") == "settled"
    finally:
        context.close()
    issued.refresh_from_db()
    assert issued.state == "paid" and issued.order_id == order.pk


def test_partner_qr_portal_issue_a_bill_qr_code(page: Any) -> None:
    ledger.do_create_chart_of_accounts(["CNY"])  # an earlier transactional test may flush it
    creds = make_partner(["payments"])
    shop = make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code="M0400",
        name="Banyan Dumplings",
        city="Shenzhen",
        ledger_account_id=shop.account.public_id,
        partner_client_id=creds.client_id,
    )

    page.goto(page.base_url + "/partners/")
    with page.expect_navigation():
        page.click("a[href='/partners/qr/']")
    page.fill("#partner-qr-signin input[name=client_id]", creds.client_id)
    page.fill("#partner-qr-signin input[name=client_secret]", creds.client_secret)
    with page.expect_navigation():
        page.click("#partner-qr-signin button[type=submit]")
    assert "Banyan Dumplings" in page.locator("#partner-merchants").inner_text()
    form = page.locator("#dynamic-qr-form")
    assert form.locator("select[name=merchant_code]").input_value() == "M0400"
    assert form.locator("input[name=minutes]").input_value() == "15"
    form.locator("input[name=amount]").fill("26.50")
    form.locator("input[name=bill_number]").fill("T-43")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    issued = DynamicQr.objects.get()
    assert (issued.amount_minor, issued.bill_number) == (26_50, "T-43")
    assert page.locator("#dynamic-qr-image svg").count() == 1
    assert issued.reference in page.locator("#dynamic-qr-payload").input_value()
    assert "26.50" in page.locator("#dynamic-qr-amount").inner_text()
    row = page.locator(f"#dynamic-qrs tr[data-reference='{issued.reference}']")
    assert row.get_attribute("data-state") == "open" and "待支付" in row.inner_text()
    screenshot(page, "partners-bill-qr")

    with page.expect_navigation():
        page.click("#partner-signout button[type=submit]")
    assert page.locator("#partner-qr-signin").count() == 1
