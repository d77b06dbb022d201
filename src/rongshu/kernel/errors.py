"""The one error family every domain raises and every channel renders.

Each error carries a stable snake_case ``code`` (the contract with clients), an HTTP status, a
translatable human ``title`` and an optional ``detail`` and ``data``. Channels render it: the API
as RFC 9457 ``application/problem+json``, the web as a page in the user's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PROBLEM_TYPE_BASE = "https://rongshu.dev/problems/"


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str | Promise] = _("The request cannot be processed.")

    def __init__(
        self,
        detail: str | Promise | None = None,
        *,
        code: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.data: dict[str, Any] = dict(data or {})
        super().__init__(str(detail) if detail is not None else str(self.title))

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """RFC 9457 problem details (with our ``code`` extension member)."""
        problem: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": str(self.title),
            "status": self.status,
            "code": self.code,
            "detail": str(self.detail if self.detail is not None else self.title),
        }
        if instance:
            problem["instance"] = instance
        for key, value in self.data.items():
            problem.setdefault(key, value)
        return problem


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"
    title = _("The request is malformed.")


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = _("Sign-in is required.")


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    title = _("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = _("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = _("The request conflicts with the current state.")


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    title = _("The request body is too large.")


class RuleViolation(DomainError):
    """A well-formed request that a business rule refuses (insufficient funds, limits …)."""

    status = 422
    code = "rule_violation"
    title = _("The request breaks a business rule.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    title = _("Too many requests; try again later.")

    def __init__(self, detail: str | Promise | None = None, *, retry_after: int = 1) -> None:
        super().__init__(detail, data={"retry_after": retry_after})
        self.retry_after = retry_after


class PartnerUnavailable(DomainError):
    status = 503
    code = "partner_unavailable"
    title = _("A partner system is unavailable; try again later.")
