"""RFC 9457 problem details for every API answer that is an error.

Domain errors render through :func:`problem_response`. :class:`ProblemJsonMiddleware` catches the
rest under ``/api/``: Django's own 404 for unknown routes, 405 for wrong methods, 400 for bad
requests, 403 CSRF failures, 413 for oversized bodies and unhandled exceptions (500 with a
generic body; the details go to the log with the request id).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from rongshu.kernel.errors import PROBLEM_TYPE_BASE, DomainError, PayloadTooLarge

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"

_GENERIC_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def problem_body(
    status: int, detail: str, *, code: str | None = None, **extra: Any
) -> dict[str, Any]:
    code = code or _GENERIC_CODES.get(status, "error")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    body.update(extra)
    return body


def render_problem(body: dict[str, Any], request: HttpRequest | None = None) -> HttpResponse:
    if request is not None:
        body.setdefault("instance", request.path)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=body["status"], content_type=PROBLEM_JSON
    )
    retry_after = body.get("retry_after")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def problem_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render_problem(error.to_problem(), request)


def _detail_from(request: HttpRequest, response: HttpResponse) -> str:
    status = response.status_code
    if status == 405:
        allowed = response.get("Allow", "")
        return f"{request.method} is not allowed here; allowed: {allowed}."
    if status == 404:
        return "No such resource or route."
    if status == 403:
        return "The request was refused (missing credentials or CSRF token)."
    return HTTPStatus(status).description or HTTPStatus(status).phrase


class ProblemJsonMiddleware:
    """Turn every non-problem error answer under /api/ into problem+json."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except RequestDataTooBig:
            return problem_response(
                request, PayloadTooLarge("The request body is larger than the server accepts.")
            )
        if response.status_code < 400 or response.get("Content-Type", "").startswith(PROBLEM_JSON):
            return response
        problem = render_problem(
            problem_body(response.status_code, _detail_from(request, response)), request
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                problem[header] = response[header]
        return problem

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return problem_response(
                request, PayloadTooLarge("The request body is larger than the server accepts.")
            )
        if isinstance(exception, DomainError):
            return problem_response(request, exception)
        if isinstance(exception, SuspiciousOperation):
            return render_problem(problem_body(400, "The request was refused."), request)
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_problem(
            problem_body(500, "An unexpected error occurred; it has been logged."), request
        )
