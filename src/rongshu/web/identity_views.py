"""Web pages of the identity domain: register, sign in and out, step-up, sessions and devices,
consents (customers); staff sign-in and staff list (console); partner credentials (partners).

Views are thin: they read forms, call :mod:`rongshu.identity.services` and render. Errors from
the domain are shown in the page, in the user's language.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rongshu.identity import services as identity
from rongshu.identity.models import UserSession
from rongshu.identity.types import (
    CONSENT_LABELS,
    ROLE_LABELS,
    ConsentPurpose,
    Principal,
    PrincipalKind,
    Role,
)
from rongshu.kernel.errors import DomainError
from rongshu.web.access import current_principal, to_signin

DEVICE_COOKIE = "rs_device"
DEVICE_COOKIE_AGE = 400 * 24 * 3600
SESSION_CHALLENGE = "identity_challenge"
TRUST_DEVICE_ACTION = "device.trust"


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def _device_key(request: HttpRequest) -> str:
    key = request.COOKIES.get(DEVICE_COOKIE, "")
    return key if 20 <= len(key) <= 64 else secrets.token_urlsafe(24)


def _set_device_cookie(response: HttpResponse, key: str) -> HttpResponse:
    response.set_cookie(
        DEVICE_COOKIE,
        key,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=not settings.DEBUG,
    )
    return response


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _error(exc: DomainError) -> str:
    return str(exc.detail if exc.detail is not None else exc.title)


def _sign_in(request: HttpRequest, user_id: int) -> str:
    """Start a Django session (a fresh key) and record it; returns the device key."""
    user = get_user_model().objects.get(pk=user_id)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    device_key = _device_key(request)
    identity.do_start_session(
        user_id,
        kind=UserSession.WEB,
        session_key=request.session.session_key or "",
        device_key=device_key,
        device_label=request.headers.get("User-Agent", "")[:200],
        address=_address(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return device_key


def _require_customer(request: HttpRequest) -> Principal | None:
    who = current_principal(request)
    return who if who.kind is PrincipalKind.CUSTOMER else None


# ------------------------------------------------------------------ customers
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"step": "phone", "phone": ""}
    if request.method == "POST":
        step = request.POST.get("step", "phone")
        context["phone"] = request.POST.get("phone", "").strip()
        try:
            if step == "phone":
                info = identity.do_start_registration(context["phone"])
                request.session[SESSION_CHALLENGE] = str(info.challenge_id)
                context.update(step="details", masked_phone=info.masked_phone)
            else:
                context.update(step="details", masked_phone=request.POST.get("masked_phone", ""))
                identity.do_register_customer(
                    challenge_id=request.session.get(SESSION_CHALLENGE, ""),
                    code=request.POST.get("code", ""),
                    password=request.POST.get("password", ""),
                    real_name=request.POST.get("real_name", ""),
                    resident_id=request.POST.get("resident_id", ""),
                )
                request.session.pop(SESSION_CHALLENGE, None)
                messages.success(request, _("Registration complete. Please sign in."))
                return redirect("/signin/")
        except DomainError as exc:
            context["error"] = _error(exc)
            context["real_name"] = request.POST.get("real_name", "")
            context["resident_id"] = request.POST.get("resident_id", "")
    return render(request, "identity/register.html", context)


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"next": _safe_next(request, "/account/security/")}
    if request.method == "POST":
        phone = request.POST.get("phone", "")
        context["phone"] = phone
        try:
            user_id = identity.do_authenticate_customer(
                phone, request.POST.get("password", ""), address=_address(request)
            )
        except DomainError as exc:
            context["error"] = _error(exc)
            return render(request, "identity/signin.html", context, status=exc.status)
        device_key = _sign_in(request, user_id)
        return _set_device_cookie(redirect(context["next"]), device_key)
    return render(request, "identity/signin.html", context)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    if request.session.session_key:
        identity.do_end_web_session(request.session.session_key)
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("/")


@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    who = _require_customer(request)
    if who is None:
        return to_signin(request)
    action = (request.POST.get("action") or request.GET.get("action") or "")[:80]
    context: dict[str, Any] = {
        "action": action,
        "next": _safe_next(request, "/account/security/"),
        "sent": False,
    }
    if not action:
        raise Http404(_("No action to confirm."))
    if request.method == "POST":
        try:
            if request.POST.get("step") == "send":
                info = identity.do_start_step_up(who, action)
                request.session[SESSION_CHALLENGE] = str(info.challenge_id)
                context.update(sent=True, masked_phone=info.masked_phone)
            else:
                context["sent"] = True
                granted = identity.do_verify_step_up(
                    who, request.session.get(SESSION_CHALLENGE, ""), request.POST.get("code", "")
                )
                request.session.pop(SESSION_CHALLENGE, None)
                if granted == TRUST_DEVICE_ACTION:
                    identity.require_step_up(who, TRUST_DEVICE_ACTION)
                    identity.do_trust_device(who, _device_key(request))
                    messages.success(request, _("This device is now trusted."))
                else:
                    messages.success(request, _("Verified. You can continue."))
                return redirect(context["next"])
        except DomainError as exc:
            context["error"] = _error(exc)
    return render(request, "identity/step_up.html", context)


def security(request: HttpRequest) -> HttpResponse:
    who = _require_customer(request)
    if who is None:
        return to_signin(request)
    device_key = request.COOKIES.get(DEVICE_COOKIE)
    assert who.user_id is not None
    return render(
        request,
        "identity/security.html",
        {
            "sessions": identity.list_sessions(who),
            "devices": identity.list_devices(who),
            "this_device_trusted": identity.is_trusted_device(who.user_id, device_key),
            "trust_action": TRUST_DEVICE_ACTION,
        },
    )


@require_POST
def session_revoke(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    who = _require_customer(request)
    if who is None:
        return to_signin(request)
    try:
        identity.do_revoke_session(who, session_id)
        messages.success(request, _("The session has ended."))
    except DomainError as exc:
        messages.error(request, _error(exc))
    return redirect("/account/security/")


@require_POST
def device_remove(request: HttpRequest, device_id: uuid.UUID) -> HttpResponse:
    who = _require_customer(request)
    if who is None:
        return to_signin(request)
    try:
        identity.do_remove_device(who, device_id)
        messages.success(request, _("The device was removed."))
    except DomainError as exc:
        messages.error(request, _error(exc))
    return redirect("/account/security/")


@require_http_methods(["GET", "POST"])
def consents(request: HttpRequest) -> HttpResponse:
    who = _require_customer(request)
    if who is None:
        return to_signin(request)
    assert who.customer_id is not None
    if request.method == "POST":
        purpose = request.POST.get("purpose", "")
        try:
            identity.do_set_consent(who.customer_id, purpose, request.POST.get("granted") == "1")
            messages.success(request, _("Your choice was saved."))
        except DomainError as exc:
            messages.error(request, _error(exc))
        return redirect("/account/consents/")
    rows = [
        {"state": s, "label": CONSENT_LABELS[ConsentPurpose(s.purpose)]}
        for s in identity.list_consents(who.customer_id)
    ]
    return render(request, "identity/consents.html", {"rows": rows})


def sms_inbox(request: HttpRequest) -> HttpResponse:
    """The SMS simulator's handset view (demo only: DEBUG with the simulator gateway)."""
    if not settings.DEBUG or not settings.RONGSHU_SMS_GATEWAY.endswith("SimulatedSmsGateway"):
        raise Http404()
    phone = request.GET.get("phone", "").strip()[:11]
    return render(
        request,
        "identity/sms_inbox.html",
        {"phone": phone, "inbox": identity.read_inbox(phone) if phone else []},
    )


# ------------------------------------------------------------------ staff console
@require_http_methods(["GET", "POST"])
def staff_signin(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"next": _safe_next(request, "/console/staff/")}
    if request.method == "POST":
        context["username"] = request.POST.get("username", "")
        try:
            user_id = identity.do_authenticate_staff(
                context["username"], request.POST.get("password", ""), address=_address(request)
            )
        except DomainError as exc:
            context["error"] = _error(exc)
            return render(request, "identity/staff_signin.html", context, status=exc.status)
        _sign_in(request, user_id)
        return redirect(context["next"])
    return render(request, "identity/staff_signin.html", context)


def _staff(request: HttpRequest) -> Principal | None:
    who = current_principal(request)
    return who if who.kind is PrincipalKind.STAFF else None


def staff_list(request: HttpRequest) -> HttpResponse:
    who = _staff(request)
    if who is None:
        return redirect(f"/console/signin/?next={request.path}")
    try:
        members = identity.list_staff(who)
    except DomainError as exc:
        raise DjangoPermissionDenied(_error(exc)) from exc
    labels = {r.value: ROLE_LABELS[r] for r in Role}
    return render(
        request,
        "identity/staff_list.html",
        {
            "members": [{"m": m, "role_label": labels.get(m.role, m.role)} for m in members],
            "approvals": identity.list_approvals(who),
        },
    )


@require_http_methods(["GET", "POST"])
def partner_credentials(request: HttpRequest) -> HttpResponse:
    who = _staff(request)
    if who is None:
        return redirect(f"/console/signin/?next={request.path}")
    context: dict[str, Any] = {}
    try:
        if request.method == "POST":
            creds = identity.do_rotate_secret(who, request.POST.get("client_id", ""))
            context["new_secret"] = creds
        context["clients"] = identity.list_clients(who)
    except DomainError as exc:
        if exc.status == 403:
            raise DjangoPermissionDenied(_error(exc)) from exc
        context["error"] = _error(exc)
        context["clients"] = identity.list_clients(who)
    return render(request, "identity/partner_credentials.html", context)
