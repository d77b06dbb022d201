"""The problem+json middleware catches what Ninja's handlers never see."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from rongshu.kernel.errors import NotFound
from rongshu.kernel.problem import ProblemJsonMiddleware


def _middleware(response: HttpResponse | Exception) -> ProblemJsonMiddleware:
    def get_response(request: HttpRequest) -> HttpResponse:
        if isinstance(response, Exception):
            raise response
        return response

    return ProblemJsonMiddleware(get_response)


def _body(response: HttpResponse) -> dict[str, object]:
    assert response["Content-Type"] == "application/problem+json"
    return dict(json.loads(response.content))


def test_non_api_paths_are_untouched() -> None:
    page = HttpResponse("<h1>not found</h1>", status=404)
    request = RequestFactory().get("/somewhere")
    assert _middleware(page)(request) is page
    assert _middleware(page).process_exception(request, RuntimeError()) is None


def test_plain_error_answers_become_problems() -> None:
    request = RequestFactory().get("/api/v1/x")
    forbidden = _middleware(HttpResponse("CSRF", status=403))(request)
    assert _body(forbidden)["code"] == "permission_denied"
    teapot = _middleware(HttpResponse("?", status=400))(request)
    assert _body(teapot)["status"] == 400
    throttled = HttpResponse("slow down", status=429)
    throttled["Retry-After"] = "3"
    converted = _middleware(throttled)(request)
    assert converted["Retry-After"] == "3" and _body(converted)["code"] == "rate_limited"


def test_oversized_body_raised_in_the_view_is_413() -> None:
    request = RequestFactory().post("/api/v1/x")
    response = _middleware(RequestDataTooBig("big"))(request)
    assert response.status_code == 413 and _body(response)["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("exception", "status", "code"),
    [
        (RequestDataTooBig("big"), 413, "payload_too_large"),
        (NotFound("gone"), 404, "not_found"),
        (SuspiciousOperation("odd"), 400, "bad_request"),
        (RuntimeError("secret detail"), 500, "internal_error"),
    ],
)
def test_process_exception(exception: Exception, status: int, code: str) -> None:
    request = RequestFactory().get("/api/v1/x")
    response = _middleware(HttpResponse()).process_exception(request, exception)
    assert response is not None and response.status_code == status
    body = _body(response)
    assert body["code"] == code and "secret detail" not in str(body["detail"])
