"""Who is looking at a page (a customer, staff, a partner client signed in to a partner
portal page), and the one check every staff console page uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from rongshu.identity import services as identity
from rongshu.identity.types import ANONYMOUS, Action, Principal, PrincipalKind
from rongshu.kernel.errors import DomainError

View = Callable[..., HttpResponse]


def current_principal(request: HttpRequest) -> Principal:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    return identity.principal_for_web_session(int(user.pk), request.session.session_key)


def current_customer(request: HttpRequest) -> Principal | None:
    """The signed-in customer, or None (anonymous visitors and staff)."""
    who = current_principal(request)
    return who if who.kind is PrincipalKind.CUSTOMER and who.customer_id is not None else None


def session_partner(request: HttpRequest, key: str) -> Principal | None:
    """The partner client signed in to this browser session, by the access token the partner
    portal page keeps under ``key``: checked on every request, so an expired or revoked token
    signs it out."""
    token = request.session.get(key)
    if not isinstance(token, str):
        return None
    who = identity.principal_for_token(token)
    if who is None or who.kind is not PrincipalKind.PARTNER:
        request.session.pop(key, None)
        return None
    return who


def to_signin(request: HttpRequest) -> HttpResponse:
    """Send a visitor to the customer sign-in page, back here afterwards."""
    return redirect(f"/signin/?next={quote(request.get_full_path())}")


def staff_required(action: Action) -> Callable[[View], View]:
    """Staff whose role allows ``action``: others are sent to the staff sign-in page, staff
    without the permission get the friendly 403 page (and the denial is audited)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            who = current_principal(request)
            if who.kind is not PrincipalKind.STAFF:
                return redirect(f"/console/signin/?next={quote(request.get_full_path())}")
            try:
                identity.check_permission(who, action)
            except DomainError as exc:
                raise DjangoPermissionDenied(str(exc)) from exc
            request.principal = who  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
