"""API authentication: one Ninja auth class every domain's router uses.

:class:`PrincipalAuth` accepts a bearer access token (apps and partners) or a signed-in web
session (with the CSRF check on unsafe methods) and puts a typed
:class:`~rongshu.identity.types.Principal` on ``request.auth``. Partners are counted against
their per-minute rate limit here (429 problem+json with ``Retry-After``).

    router = Router(auth=principal_auth)

    def view(request):
        who = principal(request)
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from rongshu.identity import services as identity
from rongshu.identity.errors import InvalidToken
from rongshu.identity.types import ANONYMOUS, Principal, PrincipalKind
from rongshu.kernel.errors import PermissionDenied

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class PrincipalAuth(HttpBearer):
    """Bearer token or web session → :class:`Principal` (None: 401 unauthenticated)."""

    def __call__(self, request: HttpRequest) -> Principal | None:
        # Once per request: an idempotent command authenticates before it claims its key
        # (api.base), and Ninja's own check then finds the same answer (a partner's request
        # counted once against its rate)
        known: Principal | None = getattr(request, "_rongshu_principal", None)
        if known is None:
            known = self._resolve(request)
            request._rongshu_principal = known  # type: ignore[attr-defined]
        return known

    def _resolve(self, request: HttpRequest) -> Principal | None:
        header = request.headers.get("Authorization")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidToken()
            return self.authenticate(request, token.strip())
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method in UNSAFE and check_csrf(request) is not None:
            raise PermissionDenied("CSRF check failed.", code="csrf_failed")
        found = identity.principal_for_web_session(int(user.pk), request.session.session_key)
        return None if found.kind is PrincipalKind.ANONYMOUS else found

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        found = identity.principal_for_token(token)
        if found is None:
            raise InvalidToken()
        if found.partner_client_id is not None:
            identity.check_partner_rate(found.partner_client_id)
        return found


principal_auth = PrincipalAuth()


def principal(request: HttpRequest) -> Principal:
    """The principal ``PrincipalAuth`` resolved (anonymous on routes without auth)."""
    auth: Any = getattr(request, "auth", None)
    return auth if isinstance(auth, Principal) else ANONYMOUS
