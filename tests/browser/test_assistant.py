from __future__ import annotations

from typing import Any

import pytest

from tests.assistant.conftest import data_dir, small_engine, trained  # noqa: F401 (fixtures)
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ask_xiaowei_and_see_the_answer(page: Any, trained: Any) -> None:  # noqa: F811
    page.goto(page.base_url + "/assistant/")
    assert page.evaluate("typeof window.htmx") == "object"
    page.fill("#chat-text", "我的银行卡不见了怎么办")
    page.click("#chat-form button[type=submit]")
    reply = page.locator(".bubble.reply").last
    reply.wait_for()
    assert "临时挂失" in reply.inner_text()
    assert page.locator("#chat-text").input_value() == ""  # the form was reset by htmx
    assert page.url.endswith("/assistant/")  # no full page load
    # An unclear question gets suggestion buttons; clicking one asks it.
    page.fill("#chat-text", "钱")
    page.click("#chat-form button[type=submit]")
    page.locator(".bubble.unsure .chip").first.wait_for()
    before = page.locator(".bubble.reply").count()
    page.locator(".bubble.unsure .chip").first.click()
    page.locator(".bubble.reply").nth(before).wait_for()  # one more answer arrived
    assert page.locator(".bubble.me").last.inner_text() != "钱"
    screenshot(page, "assistant-chat-zh-Hans")
