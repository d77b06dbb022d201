"""Who is looking at a page (a customer, staff, a partner client signed in to a partner
portal page), and the one check every staff console page uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from rongshu.identity import services as identity
from rongshu.identity.types import ANONYMOUS, Action, PartnerScope, Principal, PrincipalKind
from rongshu.kernel.errors import DomainError
from rongshu.web.formatting import error_message

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


def partner_portal(
    request: HttpRequest,
    *,
    key: str,
    page: str,
    signin_template: str,
    scope: PartnerScope,
    scope_denied_on_signin_page: bool = False,
) -> Principal | HttpResponse:
    """The sign-in and sign-out of a partner portal page at ``page``, and who is signed in to it.

    A POST with ``action=signin`` exchanges the client id and secret for an access token, kept
    in the session under ``key`` (a new session key against fixation), and returns to ``page``;
    wrong credentials show ``signin_template`` again with the error (401). ``action=signout``
    drops the token. Otherwise the signed-in partner client (:func:`session_partner`) when it
    holds ``scope``; with none, the sign-in page. A client without ``scope`` is refused with
    403: the friendly 403 page, or with ``scope_denied_on_signin_page`` the sign-in page with
    the error and a sign-out button, to sign in as another client.

    Returns the partner, or the response the view returns as it is."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "signin":
        try:
            issued = identity.do_issue_client_token(
                request.POST.get("client_id", "").strip(),
                request.POST.get("client_secret", "").strip(),
            )
        except DomainError as exc:
            return render(request, signin_template, {"error": error_message(exc)}, status=401)
        request.session.cycle_key()
        request.session[key] = issued.access_token
        return redirect(page)
    if action == "signout":
        request.session.pop(key, None)
        return redirect(page)
    who = session_partner(request, key)
    if who is None:
        return render(request, signin_template, {})
    try:
        identity.check_scope(who, scope)
    except DomainError as exc:
        if not scope_denied_on_signin_page:
            raise DjangoPermissionDenied(error_message(exc)) from exc
        context = {"error": error_message(exc), "partner": who}
        return render(request, signin_template, context, status=403)
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
