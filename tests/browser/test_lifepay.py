"""悦生活 in headless Chromium: pick a city, look up an electricity account, pay the bill and
see the receipt (the customer's balance falls by exactly the bill)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

from rongshu.kernel import clock
from rongshu.ledger import services as ledger
from rongshu.lifepay import services
from rongshu.lifepay.models import BillPayment
from tests.browser.conftest import screenshot
from tests.browser.test_payments import sign_in
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
    bill = services.inquire(b.code, number).bills[0]
    start = balance(who.account)
    noon = dt.datetime(2026, 11, 10, 4, 0, tzinfo=dt.UTC)
    with clock.frozen_time(noon):
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
