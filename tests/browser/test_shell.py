from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_in_both_languages_with_the_switcher(page: Any) -> None:
    page.goto(page.base_url + "/")
    assert page.locator("h1").inner_text() == "欢迎来到榕树"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.evaluate("typeof window.htmx") == "object", "htmx should load from static files"
    screenshot(page, "home-zh-Hans")

    with page.expect_navigation():
        page.select_option("#language", "en")
    assert page.locator("h1").inner_text() == "Welcome to rongshu"
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "home-en")

    page.click("text=Staff console")
    assert page.locator("h1").inner_text() == "Staff console"


def test_unknown_page_is_friendly(page: Any) -> None:
    response = page.goto(page.base_url + "/no/such/page/")
    assert response.status == 404
    assert "页面不存在" in page.locator("h1").inner_text()
