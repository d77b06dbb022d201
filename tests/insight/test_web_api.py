"""Console pages and API for staff with segment.view, after a build on the fixture lake."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from rongshu.identity.types import Role
from rongshu.insight import services
from tests.identity.builders import make_staff, staff_client
from tests.insight.lake_fixture import AS_OF

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(lake: Path) -> Client:
    services.do_build(as_of=AS_OF, lake=lake)
    return staff_client(make_staff(Role.MARKETING_ANALYST).user_id or 0)


def test_pages_need_segment_view(lake: Path) -> None:
    r = Client().get("/console/insight/")
    assert r.status_code == 302 and r["Location"].startswith("/console/signin/")
    teller = staff_client(make_staff(Role.TELLER).user_id or 0)
    assert teller.get("/console/insight/segments/").status_code == 403


def test_console_pages(analyst: Client) -> None:
    page = analyst.get("/console/insight/").content.decode()
    assert "food_spend_6m" in page and 'id="indicator-catalogue"' in page
    page = analyst.get("/console/insight/segments/?family=life_stage").content.decode()
    assert "/console/insight/segments/elderly/" in page
    assert "/console/insight/segments/car_owners/" not in page
    page = analyst.get("/console/insight/segments/elderly/").content.decode()
    assert "<svg" in page and "c-elder" in page and "style=" not in page
    assert analyst.get("/console/insight/segments/nope/").status_code == 404
    page = analyst.get("/console/insight/customers/c-elder/").content.decode()
    assert 'id="profile-stage"' in page and "/console/insight/segments/elderly/" in page
    page = analyst.get("/console/insight/customers/c-optout/").content.decode()
    assert 'id="profile-missing"' in page
    page = analyst.get("/console/insight/circles/").content.decode()
    assert "silver_age" not in page and "elderly" in page


def test_builder_estimates_live(analyst: Client) -> None:
    page = analyst.get("/console/insight/builder/").content.decode()
    assert 'hx-get="/console/insight/builder/estimate/"' in page
    frag = analyst.get("/console/insight/builder/estimate/", {"rule": "holds_loan_car = 1"})
    assert 'id="estimate-size"' in frag.content.decode()
    assert 'data-size="1"' in frag.content.decode()
    bad = analyst.get("/console/insight/builder/estimate/", {"rule": "import os"}).content.decode()
    assert 'id="estimate-error"' in bad


def test_api(analyst: Client) -> None:
    base = "/api/v1/insight"
    indicators = analyst.get(f"{base}/indicators").json()
    assert len(indicators) >= 150
    segs = analyst.get(f"{base}/segments").json()
    assert len(segs) >= 100
    elderly = analyst.get(f"{base}/segments/elderly").json()
    assert elderly["size"] >= 1 and "c-elder" in elderly["members"]
    assert analyst.get(f"{base}/segments/unknown").status_code == 404
    est = analyst.get(f"{base}/estimate", {"rule": "holds_loan_mortgage = 1"}).json()
    assert est == {**est, "ok": True, "size": 1, "total": 299}
    assert analyst.get(f"{base}/estimate", {"rule": "age >"}).json()["ok"] is False
    profile = analyst.get(f"{base}/customers/c-diner/profile").json()
    assert profile["indicators"]["food_spend_6m"] == 60000
    assert "payroll_customers" in {s["id"] for s in profile["segments"]}
    assert analyst.get(f"{base}/customers/c-optout/profile").status_code == 404
    assert len(analyst.get(f"{base}/circles").json()) == 4
    assert len(analyst.get(f"{base}/quality").json()) >= 150
