"""快贷 in headless Chromium: a customer with salary in a Type I account sees the pre-approved
offer, applies, accepts the contract with the one-time code from the simulated SMS, and the
money lands in the account; the schedule is shown."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from rongshu.identity import services as identity
from rongshu.kernel import clock
from rongshu.ledger import services as ledger
from rongshu.lending import bureau
from rongshu.lending.models import Loan
from rongshu.lending.preapproval import run_preapproval
from tests.browser.conftest import screenshot
from tests.lending.conftest import CleanBureau, activate_model, make_borrower

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_code(phone: str, messages: int) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(identity.read_inbox(phone)) >= messages:
            code = identity.latest_code(phone)
            assert code is not None
            return code
        time.sleep(0.1)
    raise AssertionError(f"no SMS number {messages} for {phone}")


def test_offer_apply_accept_receive(page: Any, settings: Any) -> None:
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
    ledger.do_create_chart_of_accounts(["CNY"])  # a transactional test may have flushed it
    bureau.use_bureau(CleanBureau())
    try:
        activate_model()
        b = make_borrower(name="钱七")
        run_preapproval(clock.get_business_date())
        before = b.balance()
        phone = b.who.fixture.phone
        sent = len(identity.read_inbox(phone))

        page.goto(page.base_url + "/me/loans/")
        page.fill("#signin input[name=phone]", phone)
        page.fill("#signin input[name=password]", b.who.fixture.password)
        with page.expect_navigation():
            page.click("#signin button[type=submit]")
        assert page.url.endswith("/me/loans/")
        assert page.locator("#loan-offer").is_visible()
        screenshot(page, "lending-offer")

        with page.expect_navigation():
            page.click("#offer-apply")
        page.fill("#apply-form input[name=amount]", "15000.00")
        page.fill("#apply-form input[name=term_months]", "12")
        page.check("#apply-consent")
        with page.expect_navigation():
            page.click("#apply-form button[type=submit]")
        assert page.locator("#application-state").get_attribute("data-state") == "approved"
        screenshot(page, "lending-contract")

        with page.expect_navigation():
            page.click("#accept-form button[type=submit]")
        assert "/account/step-up/" in page.url
        with page.expect_navigation():
            page.click("#step-up-send button[type=submit]")
        page.wait_for_selector("#step-up-verify")
        page.fill("#step-up-verify input[name=code]", wait_for_code(phone, sent + 1))
        with page.expect_navigation():
            page.click("#step-up-verify button[type=submit]")
        assert "/me/loans/applications/" in page.url
        with page.expect_navigation():
            page.click("#accept-form button[type=submit]")

        loan = Loan.objects.get()
        assert page.url.endswith(f"/me/loans/{loan.public_id}/")
        assert page.locator("#schedule tbody tr").count() == 12
        screenshot(page, "lending-schedule")
        assert b.balance() == before + 15_000_00
    finally:
        bureau.use_bureau(None)
