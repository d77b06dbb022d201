"""悦生活 in headless Chromium: pick a city, look up an electricity account, pay the bill and
see the receipt (the customer's balance falls by exactly the bill)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from rongshu.identity.types import Role
from rongshu.kernel import clock
from rongshu.ledger import services as ledger
from rongshu.lifepay import services
from rongshu.lifepay.models import Biller, BillPayment, Mandate
from tests.browser.conftest import screenshot
from tests.browser.test_payments import sign_in
from tests.identity.builders import PASSWORD, make_partner, make_staff
from tests.lifepay.conftest import account_for, biller
from tests.payments.conftest import balance, make_payer

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pick_city_inquire_pay_receipt(page: Any) -> None:
    ledger.do_create_chart_of_accounts(["CNY"])
    services.do_load_catalogue()
    clock.do_set_business_date(dt.date(2026, 11, 10))
    who = make_payer(name="张三")
    b = biller("440300", "electricity")
    number = account_for(b)
    start = balance(who.account)
    noon = dt.datetime(2026, 11, 10, 4, 0, tzinfo=dt.UTC)  # outside the billers' maintenance
    with clock.frozen_time(noon):
        bill = services.inquire(b.code, number).bills[0]
        sign_in(page, who.customer.phone, who.customer.password, "/me/lifepay/")
        page.select_option("#lifepay-city select[name=city]", "440300")
        page.select_option("#lifepay-city select[name=category]", "utilities")
        with page.expect_navigation():
            page.click("#lifepay-city button[type=submit]")
        with page.expect_navigation():
            page.click("#lifepay-billers a[data-code='440300-electricity']")
        page.fill("#lifepay-inquire input[name=account_no]", number)
        with page.expect_navigation():
            page.click("#lifepay-inquire button[type=submit]")
        assert page.locator("#lifepay-holder").inner_text().endswith("**")
        screenshot(page, "lifepay-inquiry")
        with page.expect_navigation():
            page.click("#lifepay-pay button[type=submit]")
        assert page.locator("#lifepay-receipt").get_attribute("data-state") == "paid"
        screenshot(page, "lifepay-receipt")
    assert BillPayment.objects.get().amount_minor == bill.amount.minor
    assert balance(who.account) == start - bill.amount.minor


def _world() -> None:
    ledger.do_create_chart_of_accounts(["CNY"])
    services.do_load_catalogue()
    clock.do_set_business_date(dt.date(2026, 11, 10))


def test_autopay_mandate_create_pause_resume_cancel(page: Any) -> None:
    _world()
    who = make_payer(name="李四")
    b = biller("440300", "electricity")
    number = account_for(b, 3)
    sign_in(page, who.customer.phone, who.customer.password, "/me/lifepay/manage/")
    form = page.locator("#lifepay-mandate")
    form.locator("input[name=biller]").fill(b.code)
    form.locator("input[name=account_no]").fill(number)
    form.locator("select[name=debit_account]").select_option(str(who.account.public_id))
    form.locator("input[name=limit]").fill("300.00")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    mandate = Mandate.objects.get(customer_id=who.customer.customer_id)
    assert (mandate.limit_minor, mandate.account_no, mandate.active) == (300_00, number, True)
    row = page.locator(f"#lifepay-mandates li[data-mandate='{mandate.public_id}']")
    assert row.locator("[data-state]").get_attribute("data-state") == "active"
    screenshot(page, "lifepay-mandate-active")

    with page.expect_navigation():
        row.locator("button[value=pause]").click()
    assert row.locator("[data-state]").get_attribute("data-state") == "paused"
    mandate.refresh_from_db()
    assert mandate.paused
    assert services.do_run_autopay(dt.date(2026, 11, mandate.due_day)) == {}  # skipped

    with page.expect_navigation():
        row.locator("button[value=resume]").click()
    assert row.locator("[data-state]").get_attribute("data-state") == "active"
    mandate.refresh_from_db()
    assert not mandate.paused

    with page.expect_navigation():
        row.locator("button[value=cancel]").click()
    assert row.count() == 0
    assert page.locator("#lifepay-mandates li.muted").count() == 1  # "no mandates yet"
    mandate.refresh_from_db()
    assert not mandate.active


def test_partner_applies_for_a_biller_and_staff_approve_it(page: Any, browser: Any) -> None:
    _world()
    creds = make_partner(["lifepay"])
    page.goto(page.base_url + "/partners/lifepay/")
    page.fill("input[name=client_id]", creds.client_id)
    page.fill("input[name=client_secret]", creds.client_secret)
    with page.expect_navigation():
        page.click("button[type=submit]")
    form = page.locator("#onboard-biller")
    form.locator("select[name=city_code]").select_option("440300")
    form.locator("select[name=item_code]").select_option("water")
    form.locator("input[name=name_zh]").fill("深圳新水务")
    form.locator("input[name=fee]").fill("1.50")
    form.locator("select[name=account_format]").select_option("digits10")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    applied = Biller.objects.get(partner_client_id=creds.client_id)
    assert (applied.status, applied.fee_minor, applied.name_zh) == ("pending", 150, "深圳新水务")
    assert applied.code in page.locator("[role=status]").inner_text()
    row = page.locator("#partner-billers tbody tr", has_text=applied.code)
    assert "待审批" in row.inner_text()
    screenshot(page, "lifepay-partner-applied")

    make_staff(Role.BRANCH_MANAGER, username="browser-lifepay-manager")
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    staff = context.new_page()
    try:
        staff.goto(page.base_url + "/console/lifepay/")
        assert "/console/signin/" in staff.url
        staff.fill("input[name=username]", "browser-lifepay-manager")
        staff.fill("input[name=password]", PASSWORD)
        staff.click("button[type=submit]")
        staff.wait_for_url("**/console/lifepay/")
        pending = staff.locator("#lifepay-pending tbody tr", has_text=applied.code)
        assert creds.client_id in pending.inner_text()
        with staff.expect_navigation():
            pending.locator("button[value=approve]").click()
        assert staff.locator("#lifepay-pending tbody tr", has_text=applied.code).count() == 0
        screenshot(staff, "lifepay-console-approved")
    finally:
        context.close()
    applied.refresh_from_db()
    assert applied.status == "active" and applied.clearing_account_id is not None

    page.reload()
    row = page.locator("#partner-billers tbody tr", has_text=applied.code)
    assert "待审批" not in row.inner_text() and "已启用" in row.inner_text()
    assert services.inquire(applied.code, account_for(applied)).biller.code == applied.code
