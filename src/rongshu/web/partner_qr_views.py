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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rongshu.identity.types import PartnerScope, Principal
from rongshu.kernel.errors import DomainError
from rongshu.payments import queries, services
from rongshu.payments.types import DynamicQrView
from rongshu.web.access import partner_portal
from rongshu.web.formatting import money
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

PAGE = "/partners/qr/"
PARTNER_TOKEN = "payments_partner_token"  # noqa: S105 - a session key name, not a secret
SIGNIN_TEMPLATE = "payments/partner_qr_signin.html"
FORM_FIELDS = ("merchant_code", *ISSUE_FIELDS)


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
    who = partner_portal(
        request,
        key=PARTNER_TOKEN,
        page=PAGE,
        signin_template=SIGNIN_TEMPLATE,
        scope=PartnerScope.PAYMENTS,
        # the sign-in page, to sign out or in as a client that may issue codes
        scope_denied_on_signin_page=True,
    )
    if isinstance(who, HttpResponse):
        return who
    if request.method == "POST" and request.POST.get("action") == "issue":
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
            % {"reference": view.reference, "amount": money(view.amount)},
        )
        return redirect(f"{PAGE}?qr={view.qr_id}")
    return _page(request, who)
