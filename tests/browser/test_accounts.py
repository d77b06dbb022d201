"""Digital banking journey in headless Chromium at a phone-sized viewport: register, open a
Type II account bound to another bank's Type I account, see it on the home page, receive a
transfer, see the message and the statement line, download the statement as CSV and as PDF,
then close the account: it is "closing" until the other bank has the money, then gone."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from rongshu.accounts.models import CustomerAccount
from rongshu.accounts.verifier import do_register_external_account
from rongshu.kernel import clock
from rongshu.kernel.outbox import dispatch_pending
from rongshu.kernel.pdf import extract_text
from rongshu.ledger import services as ledger
from rongshu.payments.clearing import process_inbound
from rongshu.payments.models import PaymentOrder
from tests.browser.conftest import screenshot
from tests.browser.test_identity import wait_for_code
from tests.identity.builders import next_phone, resident_id
from tests.payments_clearing.conftest import QUIET

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_open_type2_receive_money_and_download_statement(page: Any, settings: Any) -> None:
    settings.RONGSHU_SMS_SIMULATOR = {
        "failure_rate": 0.0,
        "min_delay_ms": 50,
        "max_delay_ms": 200,
        "per_minute": 10,
    }
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 200}
    settings.RONGSHU_CLEARING_SIMULATOR = dict(QUIET)
    ledger.do_create_chart_of_accounts(["CNY"])
    phone, password, name = next_phone(), "browser-pass-2026", "欧阳娜娜"
    external = "6217000010001234567"
    do_register_external_account("105", external, name)
    base = page.base_url

    page.goto(base + "/register/")
    page.fill("#register-phone input[name=phone]", phone)
    page.click("#register-phone button[type=submit]")
    page.wait_for_selector("#register-details")
    page.fill("input[name=code]", wait_for_code(phone, 1))
    page.fill("input[name=real_name]", name)
    page.fill("input[name=resident_id]", resident_id())
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("#register-details button[type=submit]")
    page.fill("#signin input[name=phone]", phone)
    page.fill("#signin input[name=password]", password)
    with page.expect_navigation():
        page.click("#signin button[type=submit]")

    page.goto(base + "/")
    with page.expect_navigation():
        page.click("#my-accounts")
    assert page.url.endswith("/me/")
    with page.expect_navigation():
        page.click("a[href='/me/open/']")
    page.check("input[name=account_type][value='2']")
    page.select_option("select[name=bind_bank_code]", "105")
    page.fill("input[name=bind_account_number]", external)
    screenshot(page, "accounts-open")
    with page.expect_navigation():
        page.click("#open-form button[type=submit]")
    account = CustomerAccount.objects.get()
    assert page.url.endswith(f"/me/accounts/{account.public_id}/")
    assert page.inner_text("#account-number") == account.account_number

    page.goto(base + "/me/")
    card = page.locator(f"a.acct[data-number='{account.account_number}']")
    assert "¥0.00" in card.inner_text()
    # no horizontal scrolling at phone width
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    cash = ledger.get_chart_account("cash.CNY").public_id
    ledger.do_transfer(
        debit=cash,
        credit=account.ledger_account_id,
        amount=1_234_56,
        currency="CNY",
        code="transfer_in",
        reference="房租退款",
    )
    page.reload()
    assert (
        "¥1234.56" in page.locator(f"a.acct[data-number='{account.account_number}']").inner_text()
    )
    assert page.inner_text("#total") == "¥1234.56"
    assert page.inner_text("#unread") == "2"
    screenshot(page, "accounts-home")

    with page.expect_navigation():
        page.click("#messages-link")
    first = page.locator("#messages li").first
    assert "+1234.56 CNY" in first.inner_text()

    page.goto(base + f"/me/accounts/{account.public_id}/")
    line = page.locator("#statement li").first
    assert "房租退款" in line.inner_text()
    assert "+1234.56" in line.inner_text()
    screenshot(page, "accounts-statement")
    with page.expect_download() as info:
        page.click("#csv")
    path = info.value.path()
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = text.splitlines()
    assert rows[0].startswith("date_time,direction,amount,currency,balance")
    assert ",in,1234.56,CNY,1234.56,transfer_in,房租退款," in rows[1]
    with page.expect_download() as info:
        page.click("#pdf")
    assert info.value.suggested_filename == f"statement-{account.public_id}.pdf"
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    pdf_text = extract_text(data)
    assert "房租退款" in pdf_text and "1234.56" in pdf_text and account.account_number in pdf_text

    # close it: the balance leaves for the bound account at the other bank
    page.click("#close-account summary")
    page.check("input[name=confirm]")
    with page.expect_navigation():
        page.click("#close")
    assert page.url.endswith(f"/me/accounts/{account.public_id}/")
    assert page.locator("#closing").is_visible()
    screenshot(page, "accounts-closing")
    order = PaymentOrder.objects.get(debit_account_id=account.ledger_account_id)
    assert (order.state, order.creditor_account_number) == ("submitted", external)
    # the network's settlement arrives (its simulated delay passed) and is acted on
    with clock.frozen_time(clock.now() + dt.timedelta(minutes=5)):
        process_inbound()
        dispatch_pending()
        dispatch_pending()
    page.goto(base + "/me/")
    assert page.locator(f"a.acct[data-number='{account.account_number}']").count() == 0
    account.refresh_from_db()
    assert account.status == "closed"
