"""Customer pages of quick pay (快捷支付), mobile first: my bindings, bind an account to a
quick-pay merchant (consent, then the one-time code sent by SMS), lower a binding's limits,
cancel it and see its debits. Thin views over :mod:`rongshu.payments.quickpay`; domain errors are
shown in the page in the user's language."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rongshu.identity.types import Action, Principal
from rongshu.kernel.errors import DomainError, InvalidInput
from rongshu.kernel.money import Money
from rongshu.ledger import queries as ledger_queries
from rongshu.payments import quickpay
from rongshu.payments.errors import QuickPayBindingNotFound
from rongshu.payments.quickpay.services import BindingView, DebitView
from rongshu.web.access import current_customer, staff_required, to_signin
from rongshu.web.formatting import error_message, money

SESSION_CHALLENGES = "quickpay_challenges"
BIND_FIELDS = ("merchant_code", "debit_account", "per_transaction", "daily", "monthly")
HOME = "/me/payments/quickpay/"


def _state_labels() -> dict[str, str]:
    return {
        "pending": _("Waiting for the code"),
        "active": _("Active"),
        "suspended": _("Suspended"),
        "revoked": _("Cancelled"),
        "expired": _("Expired"),
    }


def _suspension_labels() -> dict[str, str]:
    return {
        "account_frozen": _("The account is frozen."),
        "account_closed": _("The account is closed."),
        "consent_withdrawn": _("You withdrew consent to share data with partners."),
    }


def _row(view: BindingView) -> dict[str, Any]:
    return {
        "b": view,
        "state_label": _state_labels().get(view.state, view.state),
        "suspended_label": _suspension_labels().get(view.suspended_reason, ""),
        "per_transaction": money(view.per_transaction),
        "daily": money(view.daily),
        "monthly": money(view.monthly),
        "used_today": money(view.used_today),
        "used_this_month": money(view.used_this_month),
    }


def _debit_row(view: DebitView) -> dict[str, Any]:
    return {
        "d": view,
        "amount": money(view.amount),
        "refunded": money(view.refunded) if view.refunded.minor else "",
    }


def _accounts(who: Principal) -> list[dict[str, str]]:
    return [
        {
            "id": str(a.public_id),
            "label": a.name,
            "available": money(Money(a.available, a.currency)),
        }
        for a in ledger_queries.list_accounts(owner_type="customer", owner_id=str(who.customer_id))
        if a.status == "open" and a.currency == "CNY"
    ]


def _amount(text: str) -> Money | None:
    text = text.strip()
    return Money.parse(text, "CNY") if text else None


def _remember_challenge(request: HttpRequest, binding_id: uuid.UUID, challenge: str) -> None:
    pending = dict(request.session.get(SESSION_CHALLENGES, {}))
    pending[str(binding_id)] = challenge
    request.session[SESSION_CHALLENGES] = dict(list(pending.items())[-5:])


def _challenge(request: HttpRequest, binding_id: uuid.UUID) -> str:
    return str(request.session.get(SESSION_CHALLENGES, {}).get(str(binding_id), ""))


@require_http_methods(["GET", "POST"])
def bindings(request: HttpRequest) -> HttpResponse:
    """My bindings and the form that starts a new one."""
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    form = dict.fromkeys(BIND_FIELDS, "")
    context: dict[str, Any] = {}
    if request.method == "POST":
        form = {f: request.POST.get(f, "").strip() for f in BIND_FIELDS}
        try:
            account_id = uuid.UUID(form["debit_account"])
        except ValueError:
            account_id = None
        try:
            if account_id is None:
                raise InvalidInput(_("Choose the account to bind."), code="account_required")
            with transaction.atomic():
                view, challenge = quickpay.do_start_binding(
                    who,
                    merchant_code=form["merchant_code"],
                    debit_account_id=account_id,
                    per_transaction=_amount(form["per_transaction"]),
                    daily=_amount(form["daily"]),
                    monthly=_amount(form["monthly"]),
                    consent=request.POST.get("consent") == "yes",
                    channel="web",
                )
        except DomainError as exc:
            context["error"] = error_message(exc)
        else:
            _remember_challenge(request, view.binding_id, str(challenge.challenge_id))
            messages.info(
                request,
                _("We sent a one-time code to %(phone)s.") % {"phone": challenge.masked_phone},
            )
            return redirect(f"{HOME}{view.binding_id}/")
    show_expired = request.GET.get("expired") == "1"
    context.update(
        form=form,
        show_expired=show_expired,
        rows=[_row(b) for b in quickpay.list_my_bindings(who, include_expired=show_expired)],
        merchants=[
            {
                "m": m,
                "max_per_transaction": money(m.max_per_transaction),
                "max_daily": money(m.max_daily),
            }
            for m in quickpay.list_merchants()
        ],
        accounts=_accounts(who),
    )
    return render(
        request, "payments/quickpay.html", context, status=400 if "error" in context else 200
    )


def _binding_page(
    request: HttpRequest, who: Principal, binding_id: uuid.UUID, **extra: Any
) -> HttpResponse:
    try:
        view = quickpay.access_binding(who, binding_id)
        debits = quickpay.list_binding_debits(who, binding_id)
    except QuickPayBindingNotFound as exc:
        raise Http404(error_message(exc)) from exc
    context = {
        **_row(view),
        "debits": [_debit_row(d) for d in debits],
        "challenge_id": _challenge(request, binding_id),
        **extra,
    }
    return render(
        request, "payments/quickpay_binding.html", context, status=400 if "error" in extra else 200
    )


def binding_detail(request: HttpRequest, binding_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    return _binding_page(request, who, binding_id)


@require_POST
def binding_confirm(request: HttpRequest, binding_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        quickpay.do_confirm_binding(
            who,
            binding_id,
            challenge_id=request.POST.get("challenge_id", ""),
            code=request.POST.get("code", ""),
        )
    except QuickPayBindingNotFound as exc:
        raise Http404(error_message(exc)) from exc
    except DomainError as exc:
        return _binding_page(request, who, binding_id, error=error_message(exc))
    messages.success(
        request, _("The account is bound. The merchant can now debit it within your limits.")
    )
    return redirect(f"{HOME}{binding_id}/")


@require_POST
def binding_limits(request: HttpRequest, binding_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        per_transaction = _amount(request.POST.get("per_transaction", ""))
        daily = _amount(request.POST.get("daily", ""))
        if per_transaction is None or daily is None:
            raise InvalidInput(
                _("Enter the per-payment and daily limits."), code="quickpay.invalid_limits"
            )
        with transaction.atomic():
            quickpay.do_set_limits(
                who,
                binding_id,
                per_transaction=per_transaction,
                daily=daily,
                monthly=_amount(request.POST.get("monthly", "")),
            )
    except QuickPayBindingNotFound as exc:
        raise Http404(error_message(exc)) from exc
    except DomainError as exc:
        return _binding_page(request, who, binding_id, limits_error=error_message(exc), error="")
    messages.success(request, _("The limits were lowered."))
    return redirect(f"{HOME}{binding_id}/")


@require_POST
def binding_unbind(request: HttpRequest, binding_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        with transaction.atomic():
            quickpay.do_unbind(who, binding_id)
    except QuickPayBindingNotFound as exc:
        raise Http404(error_message(exc)) from exc
    messages.success(
        request, _("The binding was cancelled; the merchant can no longer debit your account.")
    )
    return redirect(HOME)


# ------------------------------------------------------------------ staff
@staff_required(Action.PAYMENT_VIEW)
def console_bindings(request: HttpRequest) -> HttpResponse:
    """Staff: a customer's (or a merchant's) quick-pay bindings, next to the payment search."""
    who: Principal = request.principal  # type: ignore[attr-defined]
    form = {f: request.GET.get(f, "").strip() for f in ("customer_id", "merchant_code")}
    try:
        customer_id = uuid.UUID(form["customer_id"]) if form["customer_id"] else None
    except ValueError:
        customer_id = None
    searched = customer_id is not None or bool(form["merchant_code"])
    rows = (
        [
            _row(b)
            for b in quickpay.search_bindings(
                who, customer_id=customer_id, merchant_code=form["merchant_code"][:25]
            )
        ]
        if searched
        else []
    )
    return render(
        request,
        "payments/console_quickpay.html",
        {"form": form, "rows": rows, "searched": searched},
    )


# ------------------------------------------------------------------ staff: notifications
def _notification_labels() -> dict[str, str]:
    return {
        "pending": _("Waiting"),
        "retrying": _("Retrying"),
        "delivered": _("Delivered"),
        "failed": _("Failed"),
    }


def _merchant_page(
    request: HttpRequest, who: Principal, merchant_code: str, **extra: Any
) -> HttpResponse:
    failed_only = request.GET.get("failed") == "1"
    try:
        view = quickpay.access_notify_settings(who, merchant_code, failed_only=failed_only)
    except DomainError as exc:
        raise Http404(error_message(exc)) from exc
    labels = _notification_labels()
    context = {
        "m": view,
        "failed_only": failed_only,
        "rows": [{"n": n, "state_label": labels.get(n.state, n.state)} for n in view.notifications],
        "form_url": extra.pop("form_url", view.notify_url),
        **extra,
    }
    return render(
        request,
        "payments/console_quickpay_merchant.html",
        context,
        status=400 if extra.get("error") else 200,
    )


@staff_required(Action.PAYMENT_VIEW)
def console_merchants(request: HttpRequest) -> HttpResponse:
    """Staff: the quick-pay merchants, where their notifications go and how many failed."""
    who: Principal = request.principal  # type: ignore[attr-defined]
    return render(
        request,
        "payments/console_quickpay_merchants.html",
        {"merchants": quickpay.list_notify_merchants(who)},
    )


@staff_required(Action.PAYMENT_VIEW)
def console_merchant(request: HttpRequest, merchant_code: str) -> HttpResponse:
    """Staff: a merchant's notification URL (``payment.manage`` changes it) and its latest or
    failed notifications."""
    who: Principal = request.principal  # type: ignore[attr-defined]
    return _merchant_page(request, who, merchant_code)


@require_POST
@staff_required(Action.PAYMENT_MANAGE)
def console_merchant_url(request: HttpRequest, merchant_code: str) -> HttpResponse:
    who: Principal = request.principal  # type: ignore[attr-defined]
    url = request.POST.get("notify_url", "").strip()
    try:
        quickpay.do_set_notify_url(who, merchant_code, url)
    except DomainError as exc:
        return _merchant_page(request, who, merchant_code, error=error_message(exc), form_url=url)
    messages.success(request, _("The notification address was saved."))
    return redirect(f"/console/payments/quickpay/merchants/{merchant_code}/")


@require_POST
@staff_required(Action.PAYMENT_MANAGE)
def console_resend(request: HttpRequest, merchant_code: str, event_id: uuid.UUID) -> HttpResponse:
    who: Principal = request.principal  # type: ignore[attr-defined]
    try:
        quickpay.do_resend_notification(who, merchant_code, event_id)
    except DomainError as exc:
        return _merchant_page(request, who, merchant_code, error=error_message(exc))
    messages.success(request, _("The notification was queued again."))
    return redirect(f"/console/payments/quickpay/merchants/{merchant_code}/?failed=1")
