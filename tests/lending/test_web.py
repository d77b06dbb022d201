"""Customer and staff pages render, and the apply → accept → repay path works over HTTP."""

from __future__ import annotations

import pytest
from django.test import Client

from rongshu.identity.types import Role
from rongshu.kernel import clock
from rongshu.lending.models import Application, Loan, ModelVersion
from rongshu.lending.preapproval import run_preapproval
from tests.identity.builders import make_staff, staff_client
from tests.lending.conftest import make_borrower, step_up

pytestmark = pytest.mark.django_db


def signed_in(phone: str, password: str) -> Client:
    client = Client()
    r = client.post("/signin/", {"phone": phone, "password": password})
    assert r.status_code == 302
    return client


def test_offer_apply_accept_repay_pages(active_model: ModelVersion) -> None:
    b = make_borrower()
    run_preapproval(clock.get_business_date())
    c = signed_in(b.who.fixture.phone, b.who.fixture.password)
    page = c.get("/me/loans/").content.decode()
    assert 'id="loan-offer"' in page
    r = c.post(
        "/me/loans/apply/",
        {"product_code": "kuaidai", "amount": "8000.00", "term_months": "6", "method": "annuity"},
    )
    assert "apply-error" in r.content.decode()  # no consent: an error in the page
    assert Application.objects.count() == 0
    r = c.post(
        "/me/loans/apply/",
        {
            "product_code": "kuaidai",
            "amount": "8000.00",
            "term_months": "6",
            "method": "equal_principal",
            "consent": "on",
        },
    )
    app = Application.objects.get()
    assert r.status_code == 302 and str(app.public_id) in r["Location"]
    r = c.post(f"/me/loans/applications/{app.public_id}/accept/")
    assert r.status_code == 302 and r["Location"].startswith("/account/step-up/")
    assert Loan.objects.count() == 0
    # the browser test drives the step-up page; here the session's own grant is made directly
    from rongshu.identity import services as identity

    who = identity.principal_for_web_session(int(c.session["_auth_user_id"]), c.session.session_key)
    b.who.principal = who
    step_up(b)
    r = c.post(f"/me/loans/applications/{app.public_id}/accept/")
    loan = Loan.objects.get()
    assert r["Location"] == f"/me/loans/{loan.public_id}/"
    page = c.get(r["Location"]).content.decode()
    assert page.count('data-status="future"') == 6
    r = c.post(f"/me/loans/{loan.public_id}/repay/", {"amount": "1000.00", "key": "web-1"})
    loan.refresh_from_db()
    assert loan.outstanding_minor == 7_000_00
    c.post(f"/me/loans/{loan.public_id}/repay/", {"amount": "1000.00", "key": "web-1"})
    loan.refresh_from_db()
    assert loan.outstanding_minor == 7_000_00  # the double submit did nothing


def test_staff_pages(active_model: ModelVersion) -> None:
    officer = make_staff(Role.RISK_OFFICER, username="risk-web")
    assert officer.user_id is not None
    c = staff_client(officer.user_id)
    for url in ("/console/lending/", "/console/lending/models/", "/console/lending/portfolio/"):
        r = c.get(url)
        assert r.status_code == 200, url
    assert 'data-state="active"' in c.get("/console/lending/models/").content.decode()
    teller = make_staff(Role.TELLER, username="teller-web")
    assert teller.user_id is not None
    assert staff_client(teller.user_id).get("/console/lending/models/").status_code == 403
