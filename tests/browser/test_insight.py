"""A marketing analyst signs in, types a rule in the segment builder and sees the live size
estimate (htmx), then opens the elderly segment's dashboard."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rongshu.identity.types import Role
from rongshu.insight import services
from tests.browser.conftest import screenshot
from tests.identity.builders import PASSWORD, make_staff
from tests.insight.lake_fixture import AS_OF, build_lake

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_builder_live_estimate_and_dashboard(
    page: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RONGSHU_INSIGHT_DIR", str(tmp_path / "results"))
    services.do_build(as_of=AS_OF, lake=build_lake(tmp_path / "lake", filler=40))
    make_staff(Role.MARKETING_ANALYST, username="browser-analyst")

    page.goto(page.base_url + "/console/insight/builder/")
    assert "/console/signin/" in page.url
    page.fill("input[name=username]", "browser-analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/insight/builder/")

    page.fill("#segment-builder textarea[name=rule]", "holds_loan_car = 1")
    page.locator("#segment-builder textarea[name=rule]").press("Space")
    page.wait_for_selector("#estimate-size")
    assert page.locator("#estimate-size").get_attribute("data-size") == "1"
    screenshot(page, "insight-builder")

    page.fill("#segment-builder textarea[name=rule]", "age >")
    page.locator("#segment-builder textarea[name=rule]").press("Space")
    page.wait_for_selector("#estimate-error")

    page.goto(page.base_url + "/console/insight/segments/elderly/")
    assert page.locator("svg.bars").count() >= 1
    assert "c-elder" in page.locator("#segment-members").inner_text()
    screenshot(page, "insight-segment")
