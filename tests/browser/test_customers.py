"""The staff journey through the unified customer view: a risk officer opens the review queue,
merges a pair the model was unsure of, and lands on the merged customer's 360° view."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rongshu.customers import services
from rongshu.customers.models import ReviewPair, SourceRecord
from tests.browser.conftest import screenshot
from tests.customers.builders import make_people, rows_for
from tests.identity.builders import PASSWORD, make_staff

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if not Path("/usr/bin/chromium").exists() and os.environ.get("RONGSHU_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_risk_officer_merges_a_pair_and_sees_the_360_view(page: Any) -> None:
    make_staff("risk_officer", username="browser-risk")
    people = make_people(30, seed=11)
    for source in ("core", "insurance"):
        services.do_ingest_rows(source, rows_for(people, source, share=1.0, noise=0.0))
    services.do_resolve()
    a = SourceRecord.objects.get(source="core", record_key=f"core-{people[0].person_id}")
    b = SourceRecord.objects.get(source="insurance", record_key=f"insurance-{people[1].person_id}")
    pair = ReviewPair.objects.create(
        record_a=a, record_b=b, match_probability=0.72, model_version="t", created_at=a.received_at
    )

    page.goto(page.base_url + "/console/customers/review/")
    assert "/console/signin/" in page.url
    page.fill("input[name=username]", "browser-risk")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/customers/review/")
    card = page.locator(f"#pair-{pair.public_id}")
    assert people[0].name in card.inner_text()
    screenshot(page, "customers-review-zh-Hans")
    with page.expect_navigation():
        card.locator("button[value=merge]").click()
    assert page.locator("#customer-name").inner_text() in {people[0].name, people[1].name}
    sources = page.locator("#source-records").inner_text()
    assert (
        f"core-{people[0].person_id}" in sources and f"insurance-{people[1].person_id}" in sources
    )
    screenshot(page, "customers-360-zh-Hans")
