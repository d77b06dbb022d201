"""Customer pages of the accounts domain (mobile first): home, open an account, account
details with statement and CSV, e-statements, messages, preferences, freeze / unfreeze /
close; and the staff page to open a Type I account after in-person verification.

Views are thin: they read forms, call :mod:`rongshu.accounts` and render; domain errors are
shown in the page in the user's language.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rongshu.accounts import queries, services
from rongshu.accounts.numbers import mask_account_number
from rongshu.accounts.types import TYPE_LABELS, StatementFilter
from rongshu.accounts.verifier import KNOWN_BANKS
from rongshu.identity.errors import StepUpRequired
from rongshu.identity.types import Action, Principal
from rongshu.kernel.errors import DomainError
from rongshu.kernel.ids import new_id
from rongshu.kernel.money import format_minor, parse_minor
from rongshu.payments import services as payments
from rongshu.web.access import current_customer, staff_required, to_signin


def not_found_as_404(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Another customer's (or an unknown) account is simply not there: the 404 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404(_error(exc)) from exc
            raise

    return wrapper


def _error(exc: DomainError) -> str:
    return str(exc.detail if exc.detail is not None else exc.title)


def _yuan(minor: int | None) -> str:
    return "" if minor is None else format_minor(minor, "CNY")


def _card(a: Any) -> dict[str, Any]:
    return {
        "a": a,
        "masked": mask_account_number(a.account_number),
        "type_label": TYPE_LABELS[a.account_type],
        "balance": _yuan(a.balance),
        "available": _yuan(a.available),
        "held": _yuan(a.held),
        "daily_limit": _yuan(a.daily_limit),
        "daily_used": _yuan(a.daily_used),
        "yearly_limit": _yuan(a.yearly_limit),
        "yearly_used": _yuan(a.yearly_used),
        "balance_cap": _yuan(a.balance_cap),
    }


def home(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    overview = queries.get_overview(who)
    return render(
        request,
        "accounts/home.html",
        {
            "cards": [_card(a) for a in overview.accounts],
            "total": _yuan(overview.total_cny),
            "unread": overview.unread,
            "latest": queries.list_notifications(who, limit=3),
        },
    )


@require_http_methods(["GET", "POST"])
def open_account(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    context: dict[str, Any] = {
        "banks": sorted(KNOWN_BANKS.items()),
        "form": {"account_type": "2", "bind_bank_code": "", "bind_account_number": ""},
    }
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in context["form"]}
        context["form"] = form
        try:
            account_type = int(form["account_type"] or "2")
            account = services.do_open_account(
                who,
                account_type=account_type,
                bind_bank_code=form["bind_bank_code"],
                bind_account_number=form["bind_account_number"],
            )
        except (DomainError, ValueError) as exc:
            context["error"] = (
                _error(exc) if isinstance(exc, DomainError) else _("Choose an account type.")
            )
        else:
            messages.success(
                request,
                _("Your account %(number)s is open.") % {"number": account.account_number},
            )
            return redirect(f"/me/accounts/{account.public_id}/")
    return render(request, "accounts/open.html", context)


def _statement_filter(request: HttpRequest) -> StatementFilter:
    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None

    direction = request.GET.get("direction", "")
    return StatementFilter(
        text=request.GET.get("q", "").strip()[:80],
        date_from=day("from"),
        date_to=day("to"),
        direction=direction if direction in ("in", "out") else "",
    )


@not_found_as_404
def account_detail(request: HttpRequest, account_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    flt = _statement_filter(request)
    try:
        after = int(request.GET.get("after", "")) if request.GET.get("after") else None
    except ValueError:
        after = None
    summary, lines, cursor = queries.get_statement_page(
        who, account_id, flt=flt, after=after, limit=50
    )
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "accounts/detail.html",
        {
            "card": _card(summary),
            "lines": [
                {
                    "line": line,
                    "amount": _yuan(line.credit or line.debit),
                    "balance": _yuan(line.balance),
                }
                for line in lines
            ],
            "next_cursor": cursor,
            "flt": flt,
            "query": query.urlencode(),
            "estatements": queries.list_estatements(who, account_id),
            "certificates": [
                {"cert": c, "amount": _yuan(c.amount)}
                for c in queries.list_certificates(who, account_id)
            ],
            "certificate_key": str(new_id()),
            "unfreeze_action": services.UNFREEZE_ACTION,
        },
    )


@not_found_as_404
def statement_csv(request: HttpRequest, account_id: uuid.UUID) -> HttpResponseBase:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    rows = queries.iter_statement_csv(who, account_id, _statement_filter(request))
    first = next(rows)
    response = StreamingHttpResponse(
        _chain(first, rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="statement-{account_id}.csv"'
    return response


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@not_found_as_404
def statement_pdf(request: HttpRequest, account_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        data = queries.statement_pdf(who, account_id, _statement_filter(request))
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, _error(exc))
        return redirect(f"/me/accounts/{account_id}/")
    return _pdf(data, f"statement-{account_id}.pdf")


@not_found_as_404
def estatement_pdf(request: HttpRequest, account_id: uuid.UUID, month: str) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        first_day = dt.date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise Http404 from exc
    return _pdf(queries.estatement_pdf(who, account_id, first_day), f"e-statement-{month}.pdf")


@not_found_as_404
@require_POST
def request_certificate(request: HttpRequest, account_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    back = f"/me/accounts/{account_id}/"
    try:
        summary = queries.get_account_summary(who, account_id)
        until = request.POST.get("frozen_until", "").strip()
        try:
            frozen_until = dt.date.fromisoformat(until) if until else None
        except ValueError as exc:
            raise DomainError(_("Enter the freeze date as YYYY-MM-DD.")) from exc
        cert = services.do_request_certificate(
            who,
            account_id,
            amount=parse_minor(
                request.POST.get("amount", "").strip().replace(",", ""), summary.currency
            ),
            frozen_until=frozen_until,
            purpose=request.POST.get("purpose", ""),
            request_key=request.POST.get("idempotency_key", "")[:64] or None,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, _error(exc))
        return redirect(back)
    messages.success(
        request,
        _("Deposit certificate issued; verification code %(code)s.")
        % {"code": cert.verification_code},
    )
    return redirect(back)


def certificate_pdf(request: HttpRequest, certificate_id: uuid.UUID) -> HttpResponseBase:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        data = queries.certificate_pdf(who, certificate_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(_error(exc)) from exc
        raise
    return _pdf(data, f"deposit-certificate-{certificate_id}.pdf")


@not_found_as_404
def estatement(request: HttpRequest, account_id: uuid.UUID, month: str) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        first_day = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        first_day = dt.date(1970, 1, 1)
    summary, view, lines = queries.get_estatement(who, account_id, first_day)
    return render(
        request,
        "accounts/estatement.html",
        {
            "card": _card(summary),
            "statement": view,
            "opening": _yuan(view.opening_balance),
            "closing": _yuan(view.closing_balance),
            "lines": [
                {"line": ln, "amount": _yuan(ln.credit or ln.debit), "balance": _yuan(ln.balance)}
                for ln in lines
            ],
        },
    )


@not_found_as_404
@require_POST
def account_action(request: HttpRequest, account_id: uuid.UUID, action: str) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    back = f"/me/accounts/{account_id}/"
    try:
        if action == "freeze":
            services.do_freeze_my_account(who, account_id)
            messages.success(request, _("The account is frozen: no payments out."))
        elif action == "unfreeze":
            services.do_unfreeze_my_account(who, account_id)
            messages.success(request, _("The account is unfrozen."))
        elif action == "close":
            if request.POST.get("confirm") != "yes":
                messages.error(request, _("Tick the box to confirm closing the account."))
                return redirect(back)
            account = services.do_close_my_account(who, account_id, channel="web")
            if account.status == account.CLOSING:
                messages.success(
                    request,
                    _(
                        "The account is closing: its balance is on its way to your bound "
                        "account at the other bank. We will tell you when it is closed."
                    ),
                )
                return redirect(back)
            messages.success(
                request, _("The account is closed; its balance went to the bound account.")
            )
            return redirect("/me/")
        else:
            return redirect(back)
    except StepUpRequired:
        step_up = payments.STEP_UP_ACTION if action == "close" else services.UNFREEZE_ACTION
        return redirect(f"/account/step-up/?action={step_up}&next={back}")
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, _error(exc))
    return redirect(back)


def notifications(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    return render(
        request,
        "accounts/messages.html",
        {"items": queries.list_notifications(who, limit=100)},
    )


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    raw = request.POST.get("id", "")
    try:
        target = uuid.UUID(raw) if raw else None
    except ValueError:
        target = None
    services.do_mark_read(who, target)
    return redirect("/me/messages/")


def _time(text: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(text) if text else None
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    context: dict[str, Any] = {}
    if request.method == "POST":
        try:
            services.do_set_preferences(
                who,
                sms_kinds=request.POST.getlist("sms_kinds"),
                quiet_start=_time(request.POST.get("quiet_start", "")),
                quiet_end=_time(request.POST.get("quiet_end", "")),
            )
            messages.success(request, _("Your preferences are saved."))
            return redirect("/me/preferences/")
        except DomainError as exc:
            context["error"] = _error(exc)
    prefs = queries.get_preferences(who)
    context.update(
        prefs=prefs,
        kinds=[
            ("movement", _("Account movements")),
            ("security", _("Security")),
            ("payment", _("Payment status")),
            ("statement", _("Statements")),
        ],
    )
    return render(request, "accounts/preferences.html", context)


@staff_required(Action.CUSTOMER_VIEW)
def console_verify_certificate(request: HttpRequest) -> HttpResponse:
    staff: Principal = request.principal  # type: ignore[attr-defined]
    code = request.GET.get("code", "").strip()[:40]
    context: dict[str, Any] = {"code": code}
    if code:
        try:
            cert = queries.verify_certificate(staff, code)
        except DomainError as exc:
            context["error"] = _error(exc)
        else:
            context.update(
                cert=cert,
                masked=mask_account_number(cert.account_number),
                amount=format_minor(cert.amount, cert.currency),
                state_label={
                    "frozen": _("Amount frozen"),
                    "issued": _("Issued (no freeze)"),
                    "released": _("Freeze released"),
                }.get(cert.state, cert.state),
            )
    return render(request, "accounts/console_certificate.html", context)


@staff_required(Action.ACCOUNT_OPEN_TYPE1)
@require_http_methods(["GET", "POST"])
def console_open_type1(request: HttpRequest) -> HttpResponse:
    staff: Principal = request.principal  # type: ignore[attr-defined]
    context: dict[str, Any] = {"customer_id": "", "note": ""}
    if request.method == "POST":
        context["customer_id"] = request.POST.get("customer_id", "").strip()
        context["note"] = request.POST.get("verification_note", "").strip()
        try:
            if request.POST.get("in_person") != "yes":
                raise DomainError(_("Confirm that you verified the customer in person."))
            customer_id = uuid.UUID(context["customer_id"])
            account = services.do_open_type1_in_person(
                staff, customer_id, verification_note=context["note"]
            )
            context["opened"] = account.account_number
        except ValueError:
            context["error"] = _("Enter the customer's id.")
        except DomainError as exc:
            context["error"] = _error(exc)
    return render(request, "accounts/console_type1.html", context)
