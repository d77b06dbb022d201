"""Identity journey in headless Chromium: register with an SMS code, sign in, confirm an
action with a one-time code read from the SMS simulator's inbox, sign out."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from rongshu.identity import services as identity
from rongshu.identity.models import SmsMessage
from tests.browser.conftest import screenshot
from tests.identity.builders import next_phone, resident_id

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_code(phone: str, messages: int) -> str:
    """Poll the simulator's inbox like a person waiting for the SMS (delivery has a delay)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        inbox = identity.read_inbox(phone)
        if len(inbox) >= messages:
            code = identity.latest_code(phone)
            assert code is not None
            return code
        time.sleep(0.1)
    raise AssertionError(f"no SMS number {messages} for {phone}")


def test_register_sign_in_step_up_and_sign_out(page: Any, settings: Any) -> None:
    settings.RONGSHU_SMS_SIMULATOR = {
        "failure_rate": 0.0,
        "min_delay_ms": 100,
        "max_delay_ms": 400,
        "per_minute": 10,
    }
    phone, password = next_phone(), "browser-pass-2026"
    base = page.base_url

    page.goto(base + "/register/")
    page.fill("#register-phone input[name=phone]", phone)
    page.click("#register-phone button[type=submit]")
    page.wait_for_selector("#register-details")
    code = wait_for_code(phone, 1)
    page.fill("input[name=code]", code)
    page.fill("input[name=real_name]", "李小龙")
    page.fill("input[name=resident_id]", resident_id())
    page.fill("input[name=password]", password)
    screenshot(page, "identity-register")
    with page.expect_navigation():
        page.click("#register-details button[type=submit]")
    assert page.url.endswith("/signin/")

    page.fill("#signin input[name=phone]", phone)
    page.fill("#signin input[name=password]", password)
    with page.expect_navigation():
        page.click("#signin button[type=submit]")
    assert page.url.endswith("/account/security/")
    assert page.locator("table").first.locator("tbody tr").count() == 1  # this session

    with page.expect_navigation():
        page.click("#trust-device")
    with page.expect_navigation():
        page.click("#step-up-send button[type=submit]")
    page.wait_for_selector("#step-up-verify")
    page.fill("#step-up-verify input[name=code]", wait_for_code(phone, 2))
    screenshot(page, "identity-step-up")
    with page.expect_navigation():
        page.click("#step-up-verify button[type=submit]")
    assert page.url.endswith("/account/security/")
    assert page.locator("#device-trusted").is_visible()
    assert SmsMessage.objects.filter(phone=phone).count() == 2

    with page.expect_navigation():
        page.click(".account button[type=submit]")
    page.goto(base + "/account/security/")
    assert "/signin/" in page.url
