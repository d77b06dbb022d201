"""The staff page listing reconciliation breaks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from rongshu.kernel import clock
from rongshu.payments.clearing.models import (
    ReconciliationBreakRecord,
    ReconciliationRun,
)
from tests.identity.builders import make_staff, staff_client

pytestmark = pytest.mark.django_db


def _run(network: str, day: dt.date, e2e: str) -> None:
    run = ReconciliationRun.objects.create(
        network=network,
        business_date=day,
        currency="CNY",
        run_at=clock.now(),
        statement_message_id="M",
        matched=3,
        ours_count=4,
        theirs_count=3,
        breaks_count=1,
    )
    ReconciliationBreakRecord.objects.create(
        run=run,
        kind="ours_only",
        end_to_end_id=e2e,
        direction="DBIT",
        ours_minor=12_345,
        theirs_minor=None,
        currency="CNY",
    )


def test_breaks_page_needs_ledger_view() -> None:
    response = Client().get("/console/clearing/breaks/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/signin/")
    analyst = staff_client(make_staff("marketing_analyst").user_id)
    assert analyst.get("/console/clearing/breaks/").status_code == 403


def test_breaks_page_lists_and_filters() -> None:
    _run("ibps", dt.date(2026, 3, 11), "E2E-IBPS-1")
    _run("hvps", dt.date(2026, 3, 12), "E2E-HVPS-1")
    staff = staff_client(make_staff("teller").user_id)
    page = staff.get("/console/clearing/breaks/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert "E2E-IBPS-1" in body
    assert "E2E-HVPS-1" in body
    assert "123.45 CNY" in body
    assert "Only in our books" in body
    only = staff.get("/console/clearing/breaks/?network=hvps&date=2026-03-12").content.decode()
    assert "E2E-HVPS-1" in only
    assert "E2E-IBPS-1" not in only
    none = staff.get("/console/clearing/breaks/?date=2025-01-01&network=nope").content.decode()
    assert "E2E-" not in none
