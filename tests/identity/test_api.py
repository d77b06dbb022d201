from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from rongshu.identity import services as identity
from rongshu.identity.models import LoginThrottle, PartnerClient
from rongshu.identity.types import Role
from rongshu.kernel import clock
from rongshu.kernel.models import AuditEntry, OutboxEvent
from tests.identity.builders import (
    bearer,
    make_customer,
    make_partner,
    make_staff,
    next_phone,
    resident_id,
    staff_client,
)

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(
        "/api/v1" + path, json.dumps(body), content_type="application/json", **headers
    )


def password_grant(client: Client, phone: str, password: str, device: str = "") -> Any:
    body = {"grant_type": "password", "username": phone, "password": password}
    if device:
        body["device_id"] = device
    return post(client, "/auth/token", body)


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def test_register_through_the_api(api_client: Client) -> None:
    phone = next_phone()
    start = post(api_client, "/auth/register/start", {"phone": phone})
    assert start.status_code == 202
    code = identity.latest_code(phone)
    body = {
        "challenge_id": start.json()["challenge_id"],
        "code": code,
        "password": "a-good-password",
        "real_name": "王五",
        "resident_id": resident_id(),
    }
    created = post(api_client, "/auth/register", body)
    assert created.status_code == 201
    again = post(api_client, "/auth/register", body)  # the code is spent
    assert_problem(again, 422, "invalid_otp")
    extra = post(api_client, "/auth/register/start", {"phone": phone, "admin": True})
    assert_problem(extra, 422, "validation_failed")


def test_password_grant_me_refresh_rotation_and_reuse_detection(api_client: Client) -> None:
    customer = make_customer()
    issued = password_grant(api_client, customer.phone, customer.password, "app-install-0001")
    assert issued.status_code == 200 and issued["Cache-Control"] == "no-store"
    tokens = issued.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    me = api_client.get("/api/v1/identity/me", **bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["kind"] == "customer" and me.json()["customer_id"] == customer.customer_id

    refreshed = post(
        api_client,
        "/auth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    # Presenting the spent refresh token again: the whole family is revoked.
    reuse = post(
        api_client,
        "/auth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert assert_problem(reuse, 401, "invalid_grant")["reuse_detected"] is True
    for token in (tokens["access_token"], new["access_token"]):
        denied = api_client.get("/api/v1/identity/me", **bearer(token))
        assert_problem(denied, 401, "invalid_token")
    assert AuditEntry.objects.filter(action="identity.refresh_token_reused").count() == 1


def test_wrong_password_unknown_phone_and_throttling_over_the_api(api_client: Client) -> None:
    customer = make_customer()
    wrong = password_grant(api_client, customer.phone, "nope-nope")
    unknown = password_grant(api_client, next_phone(), "nope-nope")
    a, b = (
        assert_problem(wrong, 401, "invalid_credentials"),
        assert_problem(unknown, 401, "invalid_credentials"),
    )
    assert {k: v for k, v in a.items() if k != "instance"} == {
        k: v for k, v in b.items() if k != "instance"
    }
    # The failure records survive the rolled-back command.
    assert LoginThrottle.objects.filter(failures=1).count() == 2
    with clock.frozen_time(clock.now()):
        for _ in range(4):
            password_grant(api_client, customer.phone, "nope-nope")
        throttled = password_grant(api_client, customer.phone, customer.password)
    assert_problem(throttled, 429, "login_throttled")
    assert int(throttled["Retry-After"]) >= 1


def test_forged_expired_and_revoked_tokens_are_refused(api_client: Client) -> None:
    customer = make_customer()
    tokens = password_grant(api_client, customer.phone, customer.password).json()
    forged = api_client.get("/api/v1/identity/me", **bearer("rsa_" + "A" * 43))
    assert_problem(forged, 401, "invalid_token")
    basic = api_client.get("/api/v1/identity/me", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")
    assert_problem(basic, 401, "invalid_token")
    anonymous = api_client.get("/api/v1/identity/me")
    assert_problem(anonymous, 401, "unauthenticated")
    with clock.frozen_time(clock.now() + dt.timedelta(minutes=16)):
        expired = api_client.get("/api/v1/identity/me", **bearer(tokens["access_token"]))
    assert_problem(expired, 401, "invalid_token")
    assert post(api_client, "/auth/revoke", {"token": tokens["access_token"]}).status_code == 200
    revoked = api_client.get("/api/v1/identity/me", **bearer(tokens["access_token"]))
    assert_problem(revoked, 401, "invalid_token")
    # Revoking the refresh token ends the session.
    assert post(api_client, "/auth/revoke", {"token": tokens["refresh_token"]}).status_code == 200
    gone = post(
        api_client,
        "/auth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert_problem(gone, 401, "invalid_grant")


def test_step_up_and_replay_over_the_api(api_client: Client) -> None:
    customer = make_customer()
    token = password_grant(api_client, customer.phone, customer.password).json()["access_token"]
    started = post(api_client, "/identity/step-up", {"action": "payee.add"}, **bearer(token))
    assert started.status_code == 202
    code = identity.latest_code(customer.phone)
    body = {"challenge_id": started.json()["challenge_id"], "code": code}
    ok = post(api_client, "/identity/step-up/verify", body, **bearer(token))
    assert ok.status_code == 200 and ok.json() == {"action": "payee.add", "verified": True}
    replay = post(api_client, "/identity/step-up/verify", body, **bearer(token))
    assert_problem(replay, 422, "invalid_otp")


def test_sessions_and_devices_can_be_listed_and_revoked(api_client: Client) -> None:
    customer = make_customer()
    phone_app = password_grant(api_client, customer.phone, customer.password, "phone-0001-abcdef")
    tablet = password_grant(api_client, customer.phone, customer.password, "tablet-0001-abcdef")
    token, other = phone_app.json()["access_token"], tablet.json()["access_token"]
    sessions = api_client.get("/api/v1/identity/sessions", **bearer(token)).json()
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    target = next(s for s in sessions if not s["current"])
    gone = api_client.delete(f"/api/v1/identity/sessions/{target['session_id']}", **bearer(token))
    assert gone.status_code == 204
    assert_problem(api_client.get("/api/v1/identity/me", **bearer(other)), 401, "invalid_token")
    devices = api_client.get("/api/v1/identity/devices", **bearer(token)).json()
    assert len(devices) == 2 and not any(d["trusted"] for d in devices)


def test_consents_over_the_api_record_withdrawal_events(api_client: Client) -> None:
    customer = make_customer()
    token = password_grant(api_client, customer.phone, customer.password).json()["access_token"]
    put = api_client.put(
        "/api/v1/identity/consents/marketing",
        json.dumps({"granted": True}),
        content_type="application/json",
        **bearer(token),
    )
    assert put.status_code == 200 and put.json()["granted"] is True
    assert identity.has_consent(customer.customer_id, "marketing")
    api_client.put(
        "/api/v1/identity/consents/marketing",
        json.dumps({"granted": False}),
        content_type="application/json",
        **bearer(token),
    )
    assert not identity.has_consent(customer.customer_id, "marketing")
    events = OutboxEvent.objects.filter(event_type="identity.ConsentWithdrawn")
    assert [e.payload["purpose"] for e in events] == ["marketing"]
    unknown = api_client.put(
        "/api/v1/identity/consents/astrology",
        json.dumps({"granted": True}),
        content_type="application/json",
        **bearer(token),
    )
    assert_problem(unknown, 400, "unknown_consent_purpose")


def test_partner_client_credentials_scopes_and_rate_limit(api_client: Client) -> None:
    creds = make_partner(["profile"])
    PartnerClient.objects.filter(client_id=creds.client_id).update(rate_limit_per_minute=3)
    grant = {
        "grant_type": "client_credentials",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
    }
    issued = post(api_client, "/auth/token", grant)
    assert issued.status_code == 200 and issued.json()["scope"] == "profile"
    assert issued.json()["refresh_token"] is None
    token = issued.json()["access_token"]
    wrong = post(api_client, "/auth/token", {**grant, "client_secret": "rss_wrong"})
    assert_problem(wrong, 401, "invalid_client")
    too_wide = post(api_client, "/auth/token", {**grant, "scope": "profile payments"})
    assert_problem(too_wide, 403, "insufficient_scope")
    with clock.frozen_time(clock.now().replace(second=10, microsecond=0)):
        no_scope = post(api_client, "/identity/partner/webhook-secret", {}, **bearer(token))
        assert_problem(no_scope, 403, "insufficient_scope")  # counts against the budget
        for _ in range(2):
            assert api_client.get("/api/v1/identity/partner/me", **bearer(token)).status_code == 200
        limited = api_client.get("/api/v1/identity/partner/me", **bearer(token))
    assert_problem(limited, 429, "partner_rate_limited")
    assert limited["Retry-After"] == "51"


def test_secret_rotation_keeps_the_old_secret_for_a_grace_period(api_client: Client) -> None:
    creds = make_partner(["profile"])
    manager = make_staff(Role.PARTNER_MANAGER)
    assert manager.user_id is not None
    client = staff_client(manager.user_id)
    rotated = client.post(f"/api/v1/identity/partners/{creds.client_id}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    for secret in (creds.client_secret, new_secret):
        ok = post(
            api_client,
            "/auth/token",
            {
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": secret,
            },
        )
        assert ok.status_code == 200
    with clock.frozen_time(clock.now() + dt.timedelta(hours=25)):
        old = post(
            api_client,
            "/auth/token",
            {
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
            },
        )
    assert_problem(old, 401, "invalid_client")


def test_session_writes_need_the_csrf_token() -> None:
    customer = make_customer()
    client = Client(enforce_csrf_checks=True)
    client.force_login(
        __import__("django.contrib.auth", fromlist=["get_user_model"])
        .get_user_model()
        .objects.get(pk=customer.user_id)
    )
    refused = client.post(
        "/api/v1/identity/step-up", json.dumps({"action": "x"}), content_type="application/json"
    )
    assert_problem(refused, 403, "csrf_failed")


def test_staff_view_of_customer_pii_is_masked_by_role_and_audited() -> None:
    customer = make_customer(real_name="张三丰")
    rm = make_staff(Role.RELATIONSHIP_MANAGER)
    teller = make_staff(Role.TELLER)
    assert rm.user_id is not None and teller.user_id is not None
    seen_by_rm = staff_client(rm.user_id).get(f"/api/v1/identity/customers/{customer.customer_id}")
    seen_by_teller = staff_client(teller.user_id).get(
        f"/api/v1/identity/customers/{customer.customer_id}"
    )
    assert (
        seen_by_rm.json()["resident_id"]
        == customer.resident_id[:4] + "*" * 10 + customer.resident_id[-4:]
    )
    assert seen_by_teller.json()["resident_id"] == customer.resident_id
    views = AuditEntry.objects.filter(action="identity.customer_pii_viewed")
    assert sorted(v.data["clear_id"] for v in views) == [False, True]
