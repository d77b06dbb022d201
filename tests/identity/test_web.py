from __future__ import annotations

import pytest
from django.test import Client

from rongshu.identity import services as identity
from rongshu.identity.models import UserSession
from rongshu.identity.types import Role
from rongshu.kernel.models import AuditEntry
from tests.identity.builders import PASSWORD, make_customer, make_partner, make_staff

pytestmark = pytest.mark.django_db


def test_pages_send_a_strict_csp_and_no_inline_script(client: Client) -> None:
    response = client.get("/signin/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    html = response.content.decode()
    assert "onchange=" not in html and "/static/rongshu/app.js" in html
    assert "Strict-Transport-Security" not in response  # DEBUG: no HSTS


@pytest.mark.parametrize(("language", "lang"), [("zh-hans", "zh-Hans"), ("en", "en")])
def test_sign_in_page_in_both_languages(client: Client, language: str, lang: str) -> None:
    client.cookies["django_language"] = language
    html = client.get("/signin/").content.decode()
    assert f'<html lang="{lang}">' in html and 'id="signin"' in html
    if language == "en":
        assert "<h1>Sign in</h1>" in html


def test_web_sign_in_records_a_session_and_sign_out_ends_it(client: Client) -> None:
    customer = make_customer()
    wrong = client.post("/signin/", {"phone": customer.phone, "password": "nope"})
    assert wrong.status_code == 401
    ok = client.post(
        "/signin/",
        {"phone": customer.phone, "password": customer.password, "next": "/account/security/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/account/security/"
    assert "rs_device" in ok.cookies
    session = UserSession.objects.get(user_id=customer.user_id, kind="web")
    assert session.session_key == client.session.session_key
    page = client.get("/account/security/")
    assert page.status_code == 200 and str(session.public_id) not in page.content.decode()
    client.post("/signout/")
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert client.get("/account/security/").status_code == 302


def test_an_open_redirect_is_not_followed(client: Client) -> None:
    customer = make_customer()
    response = client.post(
        "/signin/",
        {"phone": customer.phone, "password": customer.password, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/account/security/"


def test_revoking_a_web_session_signs_that_browser_out() -> None:
    customer = make_customer()
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        browser.post("/signin/", {"phone": customer.phone, "password": customer.password})
    who = identity.principal_for_web_session(customer.user_id, laptop.session.session_key)
    other = UserSession.objects.exclude(session_key=laptop.session.session_key).get()
    identity.do_revoke_session(who, other.public_id)
    assert phone.get("/account/security/").status_code == 302
    assert laptop.get("/account/security/").status_code == 200


def test_consents_page_grants_and_withdraws(client: Client) -> None:
    customer = make_customer()
    client.post("/signin/", {"phone": customer.phone, "password": customer.password})
    assert (
        "第三方" in client.get("/account/consents/").content.decode()
        or client.get("/account/consents/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    )
    client.post("/account/consents/", {"purpose": "marketing", "granted": "1"})
    assert identity.has_consent(customer.customer_id, "marketing")
    client.post("/account/consents/", {"purpose": "marketing", "granted": "0"})
    assert not identity.has_consent(customer.customer_id, "marketing")


def test_staff_pages_follow_roles(client: Client) -> None:
    admin = make_staff(Role.ADMINISTRATOR, username="web-admin")
    analyst = make_staff(Role.MARKETING_ANALYST, username="web-analyst")
    make_partner(["profile"])
    assert client.get("/console/staff/").status_code == 302
    ok = client.post("/console/signin/", {"username": "web-admin", "password": PASSWORD})
    assert ok.status_code == 302
    listing = client.get("/console/staff/")
    assert listing.status_code == 200 and "web-analyst" in listing.content.decode()
    credentials = client.get("/partners/credentials/")
    assert credentials.status_code == 200 and "Test Fund House" in credentials.content.decode()
    other = Client()
    other.post("/console/signin/", {"username": "web-analyst", "password": PASSWORD})
    assert other.get("/console/staff/").status_code == 403
    assert other.get("/partners/credentials/").status_code == 403
    assert (
        AuditEntry.objects.filter(
            action="identity.permission_denied", actor=analyst.principal_key
        ).count()
        == 2
    )
    assert admin.staff_id is not None
