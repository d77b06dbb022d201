"""Partner portal: bill QR codes (动态收款码) for a partner's own merchants, the web page of the
partner API's ``POST /payments/partner/qr/dynamic``. The merchant's partner client signs in with
its client id and secret (the page keeps the issued access token in the browser session, as the
biller portal does, :mod:`rongshu.web.lifepay_views`), needs the ``payments`` scope, sees its
merchants, issues a code for one of them (amount in yuan, optional bill number, validity in
minutes) and sees its image and text, and follows its latest codes with their state. The form's
checks, messages, rows and the shown code are the staff console's
(:mod:`rongshu.web.merchant_qr_views`)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rongshu.identity import services as identity
from rongshu.identity.types import PartnerScope, Principal
from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money, format_money
from rongshu.payments import queries, services
from rongshu.payments.types import DynamicQrView
from rongshu.web.access import session_partner
from rongshu.web.merchant_qr_views import (
    DEFAULT_MINUTES,
    ISSUE_FIELDS,
    MAX_MINUTES,
    MIN_MINUTES,
    issue_error,
    parse_issue_form,
    qr_row,
    shown_context,
)
from rongshu.web.payments_views import error_message

PAGE = "/partners/qr/"
PARTNER_TOKEN = "payments_partner_token"  # noqa: S105 - a session key name, not a secret
SIGNIN_TEMPLATE = "payments/partner_qr_signin.html"
FORM_FIELDS = ("merchant_code", *ISSUE_FIELDS)


def _money(m: Money) -> str:
    return format_money(m, get_language() or "zh-hans")


def _error(exc: DomainError) -> str:
    if exc.code == "merchant_unknown":  # none, or not one of the partner's
        return _("Choose one of your merchants.")
    return issue_error(exc)


def _find_shown(who: Principal, shown_id: str) -> DynamicQrView | None:
    """The code ``?qr=<id>`` asks for, when it is one of the partner's merchants'."""
    try:
        return queries.partner_dynamic_qr(who, uuid.UUID(shown_id)) if shown_id else None
    except (ValueError, DomainError):
        return None


def _page(
    request: HttpRequest, who: Principal, *, form: dict[str, str] | None = None, error: str = ""
) -> HttpResponse:
    merchants = queries.list_partner_merchants(who)
    names = {m.merchant_code: m.name for m in merchants}
    shown = shown_context(_find_shown(who, request.GET.get("qr", "").strip()))
    if shown["shown"] is not None:
        shown["shown"]["merchant"] = names.get(shown["shown"]["q"].merchant_code, "")
    context: dict[str, Any] = {
        "partner": who,
        "merchants": merchants,
        "form": form
        or {
            "merchant_code": merchants[0].merchant_code if len(merchants) == 1 else "",
            "amount": "",
            "bill_number": "",
            "minutes": str(DEFAULT_MINUTES),
        },
        "error": error,
        "min_minutes": MIN_MINUTES,
        "max_minutes": MAX_MINUTES,
        "rows": [
            {**qr_row(v), "merchant": names.get(v.merchant_code, v.merchant_code)}
            for v in queries.list_partner_dynamic_qrs(who, limit=20)
        ],
        **shown,
    }
    return render(request, "payments/partner_qr.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def partner_qr(request: HttpRequest) -> HttpResponse:
    """Partner portal: sign in with the client's credentials, issue bill QR codes for its own
    merchants (``?qr=<id>`` shows one code's image and text) and see the latest ones."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "signin":
        try:
            issued = identity.do_issue_client_token(
                request.POST.get("client_id", "").strip(),
                request.POST.get("client_secret", "").strip(),
            )
        except DomainError as exc:
            return render(request, SIGNIN_TEMPLATE, {"error": error_message(exc)}, status=401)
        request.session.cycle_key()
        request.session[PARTNER_TOKEN] = issued.access_token
        return redirect(PAGE)
    if action == "signout":
        request.session.pop(PARTNER_TOKEN, None)
        return redirect(PAGE)
    who = session_partner(request, PARTNER_TOKEN)
    if who is None:
        return render(request, SIGNIN_TEMPLATE, {})
    try:
        identity.check_scope(who, PartnerScope.PAYMENTS)
    except DomainError as exc:
        # the sign-in page, to sign out or in as a client that may issue codes
        context = {"error": error_message(exc), "partner": who}
        return render(request, SIGNIN_TEMPLATE, context, status=403)
    if action == "issue":
        form = {f: request.POST.get(f, "").strip() for f in FORM_FIELDS}
        try:
            amount, seconds = parse_issue_form(form)
            view = services.do_partner_issue_dynamic_qr(
                who,
                merchant_code=form["merchant_code"],
                amount=amount,
                bill_number=form["bill_number"],
                expires_in_seconds=seconds,
            )
        except DomainError as exc:
            return _page(request, who, form=form, error=_error(exc))
        messages.success(
            request,
            _("Bill QR code %(reference)s for %(amount)s issued.")
            % {"reference": view.reference, "amount": _money(view.amount)},
        )
        return redirect(f"{PAGE}?qr={view.qr_id}")
    return _page(request, who)
