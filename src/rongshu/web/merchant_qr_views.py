"""Staff console: a merchant's bill QR codes (动态收款码), dynamic QR codes the bank issues as
collection requests (:mod:`rongshu.payments.dynamic_qr`): issue one for an amount, an optional
bill number and a validity in minutes (``payment.manage``), see the latest ones with their state
and paying order (``payment.view``), and the QR image and text of the one just issued, to show
or send to the customer. Linked from the quick-pay merchant page and the payment search.

The partner portal's page (:mod:`rongshu.web.partner_qr_views`) shares the form's checks, the
error messages, the rows and the shown code (template ``payments/_dynamic_qr_shown.html``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from rongshu.identity.types import Action, Principal
from rongshu.kernel.errors import DomainError, InvalidInput
from rongshu.kernel.money import Money
from rongshu.payments import queries, services
from rongshu.payments.types import DynamicQrView, MerchantView
from rongshu.web.access import staff_required
from rongshu.web.formatting import error_message, money
from rongshu.web.payments_views import qr_svg

ISSUE_FIELDS = ("amount", "bill_number", "minutes")
DEFAULT_MINUTES = services.DYNAMIC_QR_SECONDS // 60
MIN_MINUTES = services.DYNAMIC_QR_MIN_SECONDS // 60
MAX_MINUTES = services.DYNAMIC_QR_MAX_SECONDS // 60
CURRENCY = "CNY"


def page_url(merchant_code: str) -> str:
    return f"/console/payments/merchants/{merchant_code}/qr/"


def _state_labels() -> dict[str, str]:
    return {
        "open": pgettext("bill QR code", "Open"),
        "paid": pgettext("bill QR code", "Paid"),
        "expired": pgettext("bill QR code", "Expired"),
    }


def _issue_messages() -> dict[str, str]:
    """The service's refusals in the staff member's language (by stable code)."""
    return {
        "amount_must_be_positive": _("The amount must be greater than zero."),
        "invalid_amount": _('Enter the amount in yuan, such as "38.00".'),
        "amount_precision": _('Enter the amount in yuan, such as "38.00".'),
        "qr_bill_number": _(
            "A bill number has 1 to 25 characters: latin letters, digits, spaces and punctuation."
        ),
        "qr_expiry": _("A code is valid for %(min)s to %(max)s minutes.")
        % {"min": MIN_MINUTES, "max": MAX_MINUTES},
        "currency_mismatch": _("This merchant cannot receive payments in yuan."),
    }


def issue_error(exc: DomainError) -> str:
    """A refusal of a bill QR form (:func:`parse_issue_form`, the service) as the page shows it."""
    return _issue_messages().get(exc.code) or error_message(exc)


def parse_issue_form(form: dict[str, str]) -> tuple[Money, int]:
    """The amount (in yuan) and validity (in seconds) a bill QR form asks for; refused with
    an :class:`InvalidInput` that :func:`issue_error` words (the service checks the rest)."""
    if not form["amount"]:
        raise InvalidInput(_("Enter the amount."), code="amount_required")
    amount = Money.parse(form["amount"], CURRENCY)
    minutes_text = form["minutes"] or str(DEFAULT_MINUTES)
    if not minutes_text.isdigit() or not MIN_MINUTES <= int(minutes_text) <= MAX_MINUTES:
        raise InvalidInput(code="qr_expiry")
    return amount, int(minutes_text) * 60


def qr_row(view: DynamicQrView) -> dict[str, Any]:
    return {
        "q": view,
        "amount": money(view.amount),
        "state_label": _state_labels().get(view.state, view.state),
    }


def shown_context(shown: DynamicQrView | None) -> dict[str, Any]:
    """The code a page shows (``?qr=<id>``): its row, and its QR image while it is open."""
    return {
        "shown": qr_row(shown) if shown is not None else None,
        "svg": qr_svg(shown.payload) if shown is not None and shown.state == "open" else "",
    }


def _merchant(merchant_code: str) -> MerchantView:
    merchant = queries.find_merchant(merchant_code)
    if merchant is None:
        raise Http404(_("No merchant has this code."))
    return merchant


def _page(
    request: HttpRequest,
    merchant: MerchantView,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
) -> HttpResponse:
    code = merchant.merchant_code
    shown_id = request.GET.get("qr", "").strip()
    try:
        shown = queries.find_dynamic_qr(code, uuid.UUID(shown_id)) if shown_id else None
    except ValueError:
        shown = None
    context = {
        "m": merchant,
        "page_url": page_url(code),
        "form": form or {"amount": "", "bill_number": "", "minutes": str(DEFAULT_MINUTES)},
        "error": error,
        "min_minutes": MIN_MINUTES,
        "max_minutes": MAX_MINUTES,
        "rows": [qr_row(v) for v in queries.list_dynamic_qrs(code, limit=20)],
        **shown_context(shown),
    }
    return render(
        request, "payments/console_merchant_qr.html", context, status=400 if error else 200
    )


@staff_required(Action.PAYMENT_VIEW)
def console_merchant_lookup(request: HttpRequest) -> HttpResponse:
    """The payment search's "merchant code" box: to that merchant's bill QR codes."""
    merchant_code = request.GET.get("merchant_code", "").strip()[:25]
    if not merchant_code or queries.find_merchant(merchant_code) is None:
        messages.error(request, _("No merchant has this code."))
        return redirect("/console/payments/")
    return redirect(page_url(merchant_code))


@staff_required(Action.PAYMENT_VIEW)
def console_merchant_qr(request: HttpRequest, merchant_code: str) -> HttpResponse:
    """Staff: a merchant's latest bill QR codes and the form that issues one (``?qr=<id>``
    shows one code's image and text)."""
    return _page(request, _merchant(merchant_code))


@require_POST
@staff_required(Action.PAYMENT_MANAGE)
def console_merchant_qr_issue(request: HttpRequest, merchant_code: str) -> HttpResponse:
    who: Principal = request.principal  # type: ignore[attr-defined]
    merchant = _merchant(merchant_code)
    form = {f: request.POST.get(f, "").strip() for f in ISSUE_FIELDS}
    try:
        amount, seconds = parse_issue_form(form)
        view = services.do_issue_dynamic_qr(
            merchant_code=merchant.merchant_code,
            amount=amount,
            bill_number=form["bill_number"],
            expires_in_seconds=seconds,
            actor=who.principal_key,
        )
    except DomainError as exc:
        return _page(request, merchant, form=form, error=issue_error(exc))
    messages.success(
        request,
        _("Bill QR code %(reference)s for %(amount)s issued.")
        % {"reference": view.reference, "amount": money(view.amount)},
    )
    return redirect(f"{page_url(merchant.merchant_code)}?qr={view.qr_id}")
