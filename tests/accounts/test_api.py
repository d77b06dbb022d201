"""The accounts API: open, overview, statement (+CSV), messages, preferences, freeze,
close; object-level authorization (another customer's account answers 404)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from rongshu.accounts.models import CustomerAccount
from rongshu.kernel import clock
from rongshu.kernel.outbox import dispatch_pending
from rongshu.payments import services as payments
from rongshu.payments.clearing import process_inbound
from tests.accounts.builders import customer, deposit, external_type1
from tests.identity.builders import app_tokens, bearer
from tests.payments_clearing.conftest import QUIET

pytestmark = pytest.mark.django_db


def _auth(c: Any) -> dict[str, str]:
    return bearer(app_tokens(c.fixture, f"api-{c.fixture.phone}-01").access_token)


def _post(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_open_list_statement_csv_and_messages(api_client: Client) -> None:
    c = customer("吴十")
    headers = _auth(c)
    number = external_type1("吴十", bank="308")
    r = _post(
        api_client,
        "/api/v1/accounts",
        {"account_type": 2, "bind_bank_code": "308", "bind_account_number": number},
        headers,
    )
    assert r.status_code == 201, r.content
    opened = r.json()
    assert opened["account_type"] == 2
    assert opened["daily_limit"] == "10000.00"
    account = CustomerAccount.objects.get(public_id=opened["id"])
    deposit(account, 88_80, reference="转入 from 朋友")

    overview = api_client.get("/api/v1/accounts", **headers).json()
    assert overview["total_cny"] == "88.80"
    assert overview["unread_messages"] == 2
    assert [a["balance"] for a in overview["accounts"]] == ["88.80"]

    statement = api_client.get(
        f"/api/v1/accounts/{opened['id']}/statement?q=朋友", **headers
    ).json()
    assert [(x["direction"], x["amount"], x["balance"]) for x in statement["lines"]] == [
        ("in", "88.80", "88.80")
    ]
    csv = api_client.get(f"/api/v1/accounts/{opened['id']}/statement.csv", **headers)
    assert csv["Content-Type"].startswith("text/csv")
    body = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert len(body) == 2
    assert ",88.80,CNY,88.80,deposit," in body[1]

    notes = api_client.get("/api/v1/notifications?unread=true", **headers).json()
    assert {n["kind"] for n in notes} == {"movement", "security"}
    marked = _post(api_client, f"/api/v1/notifications/{notes[0]['id']}/read", {}, headers)
    assert marked.json() == {"marked": 1}
    assert len(api_client.get("/api/v1/notifications?unread=true", **headers).json()) == 1


def test_bad_input_answers_problem_json(api_client: Client) -> None:
    c = customer("郑一")
    headers = _auth(c)
    number = external_type1("别人", bank="105")
    r = _post(
        api_client,
        "/api/v1/accounts",
        {"account_type": 2, "bind_bank_code": "105", "bind_account_number": number},
        headers,
    )
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "binding_name_mismatch"
    r = _post(
        api_client,
        "/api/v1/accounts",
        {"account_type": 1, "bind_bank_code": "105", "bind_account_number": number},
        headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "validation_failed"
    r = _post(
        api_client,
        "/api/v1/accounts",
        {"account_type": 2, "bind_bank_code": "105", "bind_account_number": number, "x": 1},
        headers,
    )
    assert r.status_code == 422
    assert CustomerAccount.objects.count() == 0


def test_another_customer_gets_404(api_client: Client) -> None:
    a, b = customer("甲一"), customer("乙二")
    number = external_type1("甲一")
    opened = _post(
        api_client,
        "/api/v1/accounts",
        {"account_type": 3, "bind_bank_code": "105", "bind_account_number": number},
        _auth(a),
    ).json()
    other = _auth(b)
    for url in (
        f"/api/v1/accounts/{opened['id']}",
        f"/api/v1/accounts/{opened['id']}/statement",
        f"/api/v1/accounts/{opened['id']}/statement.csv",
        f"/api/v1/accounts/{opened['id']}/e-statements",
    ):
        r = api_client.get(url, **other)
        assert r.status_code == 404, url
    for action in ("freeze", "unfreeze", "close"):
        r = _post(api_client, f"/api/v1/accounts/{opened['id']}/{action}", {}, other)
        assert r.status_code == 404, action
    assert api_client.get("/api/v1/accounts", **other).json()["accounts"] == []


def test_freeze_unfreeze_close_and_preferences(api_client: Client) -> None:
    c = customer("王五")
    headers = _auth(c)
    opened = _post(
        api_client,
        "/api/v1/accounts",
        {"account_type": 2, "bind_bank_code": "105", "bind_account_number": external_type1("王五")},
        headers,
    ).json()
    base = f"/api/v1/accounts/{opened['id']}"
    assert _post(api_client, f"{base}/freeze", {}, headers).json()["status"] == "frozen"
    r = _post(api_client, f"{base}/unfreeze", {}, headers)
    assert r.status_code == 403
    assert r.json()["code"] == "step_up_required"
    r = _post(api_client, f"{base}/close", {}, headers)
    assert r.status_code == 409
    prefs = api_client.put(
        "/api/v1/notification-preferences",
        data=json.dumps({"sms_kinds": ["movement"], "quiet_start": "22:00", "quiet_end": "07:00"}),
        content_type="application/json",
        **headers,
    )
    assert prefs.json() == {
        "sms_kinds": ["movement"],
        "quiet_start": "22:00:00",
        "quiet_end": "07:00:00",
    }
    assert (
        api_client.get("/api/v1/notification-preferences", **headers).json()["quiet_end"]
        == "07:00:00"
    )


def test_close_to_another_bank_answers_closing_then_the_account_is_gone(
    api_client: Client, settings: Any
) -> None:
    settings.RONGSHU_CLEARING_SIMULATOR = dict(QUIET)
    c = customer("赵六")
    headers = _auth(c)
    opened = _post(
        api_client,
        "/api/v1/accounts",
        {"account_type": 2, "bind_bank_code": "105", "bind_account_number": external_type1("赵六")},
        headers,
    ).json()
    deposit(CustomerAccount.objects.get(public_id=opened["id"]), 12_34)
    r = _post(api_client, f"/api/v1/accounts/{opened['id']}/close", {}, headers)
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["balance"], r.json()["available"]) == (
        "closing",
        "12.34",
        "0.00",
    )
    again = _post(api_client, f"/api/v1/accounts/{opened['id']}/close", {}, headers)
    assert (again.status_code, again.json()["code"]) == (409, "account_state_invalid")
    payments.do_submit_pending()  # (the test's transaction never commits: no after-commit)
    with clock.frozen_time(clock.now() + dt.timedelta(minutes=5)):
        process_inbound()
        dispatch_pending()
    listed = api_client.get("/api/v1/accounts", **headers).json()["accounts"]
    assert listed == []
    closed = api_client.get(f"/api/v1/accounts/{opened['id']}", **headers).json()
    assert (closed["status"], closed["balance"]) == ("closed", "0.00")
