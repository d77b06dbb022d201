"""Every API error is RFC 9457 problem+json with a 4xx/5xx status, never an HTML page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings
from openapi_spec_validator import validate

from rongshu.api.urls import api  # the API with every router mounted
from rongshu.kernel.models import AuditEntry

pytestmark = pytest.mark.django_db


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = json.loads(response.content)
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == status
    if code:
        assert body["code"] == code
    return body


def post_routes() -> list[str]:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return [p for p, ops in schema["paths"].items() if "post" in ops and "{" not in p]


def non_get_operations() -> list[tuple[str, str, Any]]:
    found = []
    for router_prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    if method != "GET":
                        found.append((method, router_prefix + route, operation))
    return found


def test_openapi_document_is_valid_openapi_3(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    validate(document)
    assert "/api/v1/health" in document["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_every_write_operation_is_a_command() -> None:
    """Each non-GET operation runs in one transaction rolled back on errors (``@command``)."""
    operations = non_get_operations()
    assert operations, "there should be write operations"
    missing = [
        f"{method} {route}"
        for method, route, operation in operations
        if not getattr(operation.run, "rongshu_command", False)
    ]
    assert missing == []


def test_health(client: Client) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] in {"sqlite", "postgresql"}


def test_unknown_route(client: Client) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_problem(client.post("/api/v1/no/such/thing", "{}", content_type="application/json"), 404)


def test_wrong_method(client: Client) -> None:
    response = client.delete("/api/v1/health")
    body = assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"] and "DELETE" in body["detail"]


@pytest.mark.parametrize("route", post_routes())
@pytest.mark.parametrize("body", ['{"amount": ', "not json", "\x00\xff", "[1, 2"])
def test_malformed_json_on_every_post_route(client: Client, route: str, body: str) -> None:
    response = client.post(route, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1")
    problem = assert_problem(response, response.status_code)
    assert 400 <= response.status_code < 500
    assert problem["code"] in {
        "malformed_json",
        "unauthenticated",
        "permission_denied",
        "validation_failed",
    }


@pytest.mark.parametrize("route", post_routes())
def test_oversized_body_on_every_post_route(client: Client, route: str) -> None:
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = client.post(
            route, json.dumps({"amount": "1" * 5000}), content_type="application/json"
        )
    problem = assert_problem(response, response.status_code)
    assert response.status_code in {401, 403, 413}
    if response.status_code == 413:
        assert problem["code"] == "payload_too_large"


def test_validation_errors_name_the_field(client: Client) -> None:
    url = "/api/v1/tools/amount-in-words"
    body = assert_problem(
        client.post(url, {"amount": 1.5}, content_type="application/json"),
        422,
        "validation_failed",
    )
    assert body["errors"][0]["field"] == "amount"
    body = assert_problem(
        client.post(url, {"amount": "1", "extra": 1}, content_type="application/json"), 422
    )
    assert "extra" in body["detail"]
    body = assert_problem(
        client.post(
            url, {"amount": "1.001"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
        ),
        422,
        "amount_precision",
    )
    assert "decimal places" in body["detail"]


def test_amount_in_words(client: Client) -> None:
    response = client.post(
        "/api/v1/tools/amount-in-words", {"amount": "1234.56"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "amount": "1234.56",
        "currency": "CNY",
        "minor_units": 123456,
        "formatted_zh": "¥1,234.56",
        "formatted_en": "CN¥1,234.56",
        "uppercase": "壹仟贰佰叁拾肆元伍角陆分",
    }
    usd = client.post(
        "/api/v1/tools/amount-in-words",
        {"amount": "5", "currency": "USD"},
        content_type="application/json",
    ).json()
    assert usd["uppercase"] is None and usd["amount"] == "5.00"


def test_problem_titles_follow_the_language(client: Client) -> None:
    url = "/api/v1/tools/amount-in-words"
    zh = client.post(
        url, {"amount": "x"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    en = client.post(
        url, {"amount": "x"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert json.loads(zh.content)["title"] == "金额无效。"
    assert json.loads(en.content)["title"] == "The amount is not valid."


def test_request_id_is_echoed_and_generated(client: Client) -> None:
    response = client.get("/api/v1/health", HTTP_X_REQUEST_ID="abc12345-trace")
    assert response["X-Request-ID"] == "abc12345-trace"
    generated = client.get("/api/v1/health", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]
    assert len(generated) == 32 and generated != "bad id!"


def test_metrics(client: Client) -> None:
    client.get("/api/v1/health")
    text = client.get("/metrics").content.decode()
    assert "rongshu_http_requests_total" in text
    assert 'route="/api/v1/health"' in text


@pytest.mark.urls("tests.api.idem_urls")
class TestIdempotencyOverHttp:
    url = "/api/v1/test/pay"

    def _pay(self, client: Client, key: str | None, **body: Any) -> Any:
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
        return client.post(
            self.url, {"note": "n", **body}, content_type="application/json", **headers
        )

    def test_replay(self, client: Client) -> None:
        first = self._pay(client, "key-1")
        second = self._pay(client, "key-1")
        assert first.status_code == second.status_code == 201
        assert first.content == second.content
        assert "Idempotent-Replayed" not in first
        assert second["Idempotent-Replayed"] == "true"
        assert AuditEntry.objects.count() == 1

    def test_key_required_and_reuse(self, client: Client) -> None:
        assert_problem(self._pay(client, None), 400, "idempotency_key_required")
        self._pay(client, "key-2")
        assert_problem(self._pay(client, "key-2", note="other"), 422, "idempotency_key_reused")

    def test_rule_violation_rolls_back_and_is_replayed(self, client: Client) -> None:
        assert_problem(self._pay(client, "key-3", fail=True), 422, "insufficient_funds")
        assert AuditEntry.objects.count() == 0
        replay = self._pay(client, "key-3", fail=True)
        assert replay["Idempotent-Replayed"] == "true"

    def test_unexpected_error_is_generic_500_and_releases_key(self, client: Client) -> None:
        body = assert_problem(self._pay(client, "key-4", crash=True), 500, "internal_error")
        assert "exploded" not in body["detail"]
        assert AuditEntry.objects.count() == 0
        assert self._pay(client, "key-4", crash=True).status_code == 500  # retried, not replayed

    def test_plain_command_rolls_back_on_error(self, client: Client) -> None:
        ok = client.post("/api/v1/test/note", {"note": "x"}, content_type="application/json")
        assert ok.status_code == 200
        bad = client.post(
            "/api/v1/test/note", {"note": "x", "fail": True}, content_type="application/json"
        )
        assert_problem(bad, 422, "rule_violation")
        assert AuditEntry.objects.count() == 1
