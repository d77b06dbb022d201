"""The NinjaAPI instance, its error handlers and the ``command`` decorator for writes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.decorators import decorate_view
from ninja.errors import AuthenticationError, HttpError, ValidationError

from rongshu.kernel.errors import DomainError, PayloadTooLarge
from rongshu.kernel.idempotency import (
    StoredResponse,
    fingerprint,
    run_idempotent,
)
from rongshu.kernel.problem import problem_body, problem_response, render_problem

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="rongshu API",
    version="1",
    description=(
        "The REST API of rongshu (榕树), an open-source ecosystem-banking platform. Amounts are "
        "decimal strings with a currency. Errors are RFC 9457 `application/problem+json` with "
        "a stable `code`. Writes that move money take an `Idempotency-Key` header."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def install_problem_handlers(target: NinjaAPI) -> None:
    """Render every error of ``target`` as problem+json (used by the API and by tests)."""
    target.add_exception_handler(DomainError, _domain_error)
    target.add_exception_handler(ValidationError, _validation_error)
    target.add_exception_handler(HttpError, _http_error)
    target.add_exception_handler(Http404, _not_found)
    target.add_exception_handler(RequestDataTooBig, _too_big)
    target.add_exception_handler(Exception, _unexpected)


def _domain_error(request: HttpRequest, exc: Any) -> HttpResponse:  # DomainError
    response = problem_response(request, exc)
    # A "durable" error's side records (failed sign-in counters, spent codes, denial audits)
    # are committed by ``command`` even though the answer is an error.
    response.rongshu_durable = bool(getattr(exc, "durable", False))  # type: ignore[attr-defined]
    return response


def _location(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload")] if loc else []
    return ".".join(parts)


def _validation_error(request: HttpRequest, exc: Any) -> HttpResponse:  # ValidationError
    errors = [
        {"field": _location(e.get("loc")), "message": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors
    ]
    summary = "; ".join(f"{e['field'] or 'request'}: {e['message']}" for e in errors[:5])
    body = problem_body(422, summary or "The request is invalid.", code="validation_failed")
    body["errors"] = errors
    return render_problem(body, request)


def _http_error(request: HttpRequest, exc: Any) -> HttpResponse:  # HttpError
    code = None
    if isinstance(exc, AuthenticationError):
        code = "unauthenticated"
    elif exc.status_code == 400 and "parse request body" in str(exc):
        return render_problem(
            problem_body(400, "The request body is not valid JSON.", code="malformed_json"),
            request,
        )
    return render_problem(problem_body(exc.status_code, str(exc), code=code), request)


def _not_found(request: HttpRequest, exc: Any) -> HttpResponse:  # Http404
    return render_problem(problem_body(404, str(exc) or "Not found."), request)


def _too_big(request: HttpRequest, exc: Any) -> HttpResponse:  # RequestDataTooBig
    return problem_response(
        request, PayloadTooLarge("The request body is larger than the server accepts.")
    )


def _unexpected(request: HttpRequest, exc: Any) -> HttpResponse:  # Exception
    logger.exception("unhandled API error on %s %s", request.method, request.path)
    return render_problem(
        problem_body(500, "An unexpected error occurred; it has been logged."), request
    )


install_problem_handlers(api)


# ------------------------------------------------------------------ writes
Run = Callable[..., HttpResponse]


def _atomic(run: Run) -> Run:
    """One transaction per command, rolled back when the answer is an error."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            response = run(request, *args, **kwargs)
            if response.status_code >= 400 and not getattr(response, "rongshu_durable", False):
                transaction.set_rollback(True)
        return response

    wrapper.rongshu_command = True  # type: ignore[attr-defined]
    return wrapper


def principal_of(request: HttpRequest) -> str:
    """Who is calling, for scoping idempotency keys (extended by the identity domain)."""
    auth = getattr(request, "auth", None)
    key = getattr(auth, "principal_key", None)  # rongshu.identity.types.Principal
    if isinstance(key, str) and key != "anonymous":
        return key
    if auth is not None and getattr(auth, "pk", None) is not None:
        return f"{type(auth).__name__}:{auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "anonymous"


def _idempotent(run: Run) -> Run:
    """``Idempotency-Key`` handling around a command (see rongshu.kernel.idempotency)."""

    # ``run`` is the Ninja operation's own ``run``, which authenticates the caller before
    # the view. A key belongs to its caller, so the caller is known before the key is
    # claimed or a stored answer replayed: without this a bearer-token caller's key was
    # scoped "anonymous", and a request without credentials got another's stored answer.
    operation = getattr(run, "__self__", None)
    checks = getattr(operation, "_run_checks", None)

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if checks is not None:
            refused: HttpResponse | None = checks(request)
            if refused is not None:
                return refused
        key = request.headers.get("Idempotency-Key")
        fp = fingerprint(request.method or "POST", request.path, request.body)

        def execute() -> StoredResponse:
            response = run(request, *args, **kwargs)
            headers = {h: response[h] for h in ("Location",) if h in response}
            return StoredResponse(
                status=response.status_code,
                body=response.content,
                content_type=response.get("Content-Type", "application/json"),
                headers=headers,
            )

        try:
            stored = run_idempotent(principal_of(request), key, fp, execute)
        except DomainError as exc:
            return problem_response(request, exc)
        response = HttpResponse(stored.body, status=stored.status, content_type=stored.content_type)
        for header, value in stored.headers.items():
            response[header] = value
        if stored.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    wrapper.rongshu_command = True  # type: ignore[attr-defined]
    return wrapper


def command(*, idempotent: bool = False) -> Callable[[Any], Any]:
    """Mark an operation as a write: one transaction, rolled back on any error answer;
    ``idempotent=True`` also requires and honours an ``Idempotency-Key`` header."""
    return decorate_view(_idempotent if idempotent else _atomic)
