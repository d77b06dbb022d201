"""Customer and staff pages of the payments domain (mobile first).

Customers: transfer (to one of our account numbers or to another bank, with the one-time-code
step-up above the threshold), order status and history, an HTML receipt with the amount in
大写金额, saved payees, pay a merchant QR (paste or upload its payload), show my one-time
payment code (a QR image rendered by segno as inline SVG). Staff: payment search and an order's
details (``payment.view``).

Views are thin: they read forms, call :mod:`rongshu.payments` inside one transaction and
render. Every money-moving form carries an idempotency key (a hidden field made when the form
is shown), so a double submit or a browser retry returns the same order. Domain errors are
shown in the page in the user's language.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rongshu.identity.errors import StepUpRequired
from rongshu.identity.types import Action, Principal
from rongshu.kernel.errors import DomainError, InvalidInput
from rongshu.kernel.money import Money
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.types import AccountView
from rongshu.payments import qr, queries, services
from rongshu.payments.errors import (
    DebitAccountInvalid,
    MerchantUnknown,
    PaymentNotFound,
    QrAlreadyPaid,
    QrExpired,
)
from rongshu.payments.types import OrderView, PaymentRequest
from rongshu.web.access import current_customer, staff_required, to_signin
from rongshu.web.formatting import error_message, money

logger = logging.getLogger(__name__)

STEP_UP_PAGE = "/account/step-up/"
SESSION_RESUME = "payments_resume"
MAX_QR_UPLOAD = 4096  # bytes: a payload is at most 512 characters
# the states an order can be stored in (the staff search's choices); "created" and
# "authorized" appear only as history rows of orders stored before ADR 0006's third addendum
STATES = (
    "funds_held",
    "submitted",
    "settled",
    "rejected",
    "returned",
)
RAILS = ("internal", "interbank", "qr", "quickpay")


def _state_labels() -> dict[str, str]:
    return {
        "created": _("Created"),
        "authorized": _("Authorized"),
        "funds_held": _("Funds held"),
        "submitted": _("Sent to the other bank"),
        "settled": _("Completed"),
        "rejected": _("Rejected"),
        "returned": _("Returned"),
    }


def _rail_labels() -> dict[str, str]:
    return {
        "internal": _("Transfer within rongshu"),
        "interbank": _("Transfer to another bank"),
        "qr": _("QR payment"),
        "quickpay": _("Quick pay"),
    }


# ------------------------------------------------------------------ helpers


def _my_accounts(who: Principal) -> list[AccountView]:
    return [
        a
        for a in ledger_queries.list_accounts(owner_type="customer", owner_id=str(who.customer_id))
        if a.status != "closed"
    ]


def _account_choices(who: Principal) -> list[dict[str, Any]]:
    return [
        {
            "id": str(a.public_id),
            "label": a.name,
            "available": money(Money(a.available, a.currency)),
            "currency": a.currency,
        }
        for a in _my_accounts(who)
    ]


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except (ValueError, AttributeError):
        return None


def _new_key() -> str:
    return f"web-{uuid.uuid4()}"


def _key(request: HttpRequest) -> str:
    key = request.POST.get("key", "").strip()
    return key if key.startswith("web-") and len(key) <= 60 else _new_key()


def _remember(request: HttpRequest, key: str, form: dict[str, str]) -> None:
    pending = dict(request.session.get(SESSION_RESUME, {}))
    pending[key] = form
    request.session[SESSION_RESUME] = dict(list(pending.items())[-5:])


def _recall(request: HttpRequest) -> tuple[str, dict[str, str]] | None:
    key = request.GET.get("resume", "")
    form = request.session.get(SESSION_RESUME, {}).get(key)
    return (key, dict(form)) if isinstance(form, dict) else None


def _forget(request: HttpRequest, key: str) -> None:
    pending = dict(request.session.get(SESSION_RESUME, {}))
    if pending.pop(key, None) is not None:
        request.session[SESSION_RESUME] = pending


def _to_step_up(request: HttpRequest, back: str) -> HttpResponseRedirect:
    messages.info(
        request, _("This payment needs a one-time code. After confirming, submit it again.")
    )
    return redirect(f"{STEP_UP_PAGE}?action={services.STEP_UP_ACTION}&next={quote(back, safe='')}")


def _order_row(view: OrderView) -> dict[str, Any]:
    return {
        "o": view,
        "amount": money(view.amount),
        "fee": money(view.fee),
        "state_label": _state_labels().get(view.state, view.state),
        "rail_label": _rail_labels().get(view.rail, view.rail),
        "payee": view.merchant_name or view.creditor_name,
        "in_flight": view.state in ("funds_held", "submitted"),
    }


def _mask(number: str) -> str:
    return f"{number[:4]} **** {number[-4:]}" if len(number) > 8 else number


# ------------------------------------------------------------------ transfer
TRANSFER_FIELDS = (
    "debit_account",
    "destination",
    "account_number",
    "name",
    "bank_code",
    "amount",
    "remittance_info",
)


@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    form = dict.fromkeys(TRANSFER_FIELDS, "")
    form["destination"] = "ours"
    key = _new_key()
    resumed = _recall(request) if request.method == "GET" else None
    if resumed is not None:
        key, form = resumed
    elif request.method == "GET" and (payee_id := _uuid(request.GET.get("payee", ""))):
        for payee in queries.list_payees(who):
            if payee.payee_id == payee_id:
                form.update(
                    account_number=payee.account_number,
                    name=payee.name,
                    bank_code=payee.bank_code,
                    destination="other" if payee.bank_code else "ours",
                )
    context: dict[str, Any] = {
        "accounts": _account_choices(who),
        "payees": queries.list_payees(who),
        "resumed": resumed is not None,
    }
    if request.method == "POST":
        form = {f: request.POST.get(f, "").strip() for f in TRANSFER_FIELDS}
        key = _key(request)
        try:
            debit = _uuid(form["debit_account"])
            if debit is None:
                raise DebitAccountInvalid(_("Choose the account to pay from."))
            other_bank = form["destination"] == "other"
            payment = PaymentRequest(
                debit_account_id=debit,
                amount=Money.parse(form["amount"], "CNY"),
                payee_account_number="".join(form["account_number"].split()),
                payee_name=form["name"],
                payee_bank_code=form["bank_code"] if other_bank else "",
                remittance_info=form["remittance_info"][:140],
            )
            with transaction.atomic():
                view = services.do_create_payment(who, payment, channel="web", idempotency_key=key)
                services.submit_after_commit(view)
        except StepUpRequired:
            _remember(request, key, form)
            return _to_step_up(request, f"{request.path}?resume={key}")
        except DomainError as exc:
            context["error"] = error_message(exc)
        else:
            _forget(request, key)
            messages.success(request, _("Your transfer was accepted."))
            return redirect(f"/me/payments/{view.order_id}/")
    context.update(form=form, key=key)
    return render(request, "payments/transfer.html", context)


# ------------------------------------------------------------------ orders
def history(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    rows = [_order_row(v) for v in queries.list_my_orders(who, limit=100)]
    return render(request, "payments/history.html", {"rows": rows})


def order_detail(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        view = queries.access_order(who, order_id)
    except PaymentNotFound as exc:
        raise Http404(error_message(exc)) from exc
    labels = _state_labels()
    steps = [{"h": h, "label": labels.get(h.to_state, h.to_state)} for h in view.history]
    return render(
        request,
        "payments/order.html",
        {**_order_row(view), "steps": steps, "masked": _mask(view.creditor_account_number)},
    )


def receipt(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        found = queries.get_receipt(who, order_id)
    except PaymentNotFound as exc:
        raise Http404(error_message(exc)) from exc
    if found.order.state not in ("settled", "returned"):
        messages.info(request, _("A receipt is available once the payment is completed."))
        return redirect(f"/me/payments/{order_id}/")
    return render(
        request,
        "payments/receipt.html",
        {
            **_order_row(found.order),
            "r": found,
            "total": money(found.total),
            "masked": _mask(found.order.creditor_account_number),
        },
    )


def receipt_pdf(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        data = queries.receipt_pdf(who, order_id)
    except PaymentNotFound as exc:
        raise Http404(error_message(exc)) from exc
    except queries.ReceiptNotReady:
        messages.info(request, _("A receipt is available once the payment is completed."))
        return redirect(f"/me/payments/{order_id}/")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{order_id}.pdf"'
    return response


# ------------------------------------------------------------------ payees
PAYEE_FIELDS = ("name", "account_number", "bank_code", "nickname")


@require_http_methods(["GET", "POST"])
def payees(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    context: dict[str, Any] = {"form": dict.fromkeys(PAYEE_FIELDS, "")}
    if request.method == "POST":
        form = {f: request.POST.get(f, "").strip() for f in PAYEE_FIELDS}
        context["form"] = form
        try:
            with transaction.atomic():
                services.do_save_payee(
                    who,
                    name=form["name"],
                    account_number="".join(form["account_number"].split()),
                    bank_code=form["bank_code"],
                    nickname=form["nickname"],
                )
        except DomainError as exc:
            context["error"] = error_message(exc)
        else:
            messages.success(request, _("The payee was saved."))
            return redirect("/me/payments/payees/")
    context["payees"] = [
        {"p": p, "masked": _mask(p.account_number)} for p in queries.list_payees(who)
    ]
    return render(request, "payments/payees.html", context)


@require_POST
def payee_delete(request: HttpRequest, payee_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        with transaction.atomic():
            services.do_delete_payee(who, payee_id)
        messages.success(request, _("The payee was removed."))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    return redirect("/me/payments/payees/")


# ------------------------------------------------------------------ pay a merchant QR
def _uploaded_payload(request: HttpRequest) -> str:
    upload = request.FILES.get("payload_file")
    if upload is None:
        return request.POST.get("payload", "").strip()
    data: bytes = upload.read(MAX_QR_UPLOAD + 1)
    if len(data) > MAX_QR_UPLOAD:
        raise InvalidInput(_("The file is too large for a QR payload."), code="qr_file")
    try:
        return data.decode("utf-8-sig").strip()
    except UnicodeDecodeError as exc:
        raise InvalidInput(_("The file does not contain QR payload text."), code="qr_file") from exc


def _qr_messages() -> dict[str, str]:
    """What the payer is told about a dynamic code that is not payable as it is."""
    return {
        "qr_unknown": _(
            "The merchant did not issue this QR code. Do not pay it; ask the merchant for a "
            "new code."
        ),
        "qr_tampered": _(
            "This QR code was altered: its amount is not the merchant's bill. Do not pay it; "
            "ask the merchant for a new code."
        ),
        "qr_expired": _("This QR code has expired. Ask the merchant for a new one."),
        "qr_already_paid": _("This QR code has already been paid."),
    }


def _qr_error(exc: DomainError) -> str:
    return _qr_messages().get(exc.code) or error_message(exc)


def _qr_confirm_context(
    who: Principal, payload: str, key: str, *, payable: bool = False
) -> dict[str, Any]:
    """The confirm step's context. ``payable``: also refuse a dynamic code that is paid or
    expired (when it is shown; the payment itself is checked by the service, which answers a
    replayed submission with its order)."""
    decoded = queries.decode_qr(payload)
    if not decoded.ours:
        raise MerchantUnknown()
    if payable and decoded.state == "paid":
        raise QrAlreadyPaid()
    if payable and decoded.state == "expired":
        raise QrExpired()
    return {
        "step": "confirm",
        "payload": payload,
        "key": key,
        "merchant": decoded.merchant_name or "",
        "merchant_code": decoded.merchant_code or "",
        "fixed_amount": money(decoded.amount) if decoded.amount else "",
        "reference": decoded.reference or "",
        "bill_number": decoded.bill_number or "",
        "accounts": _account_choices(who),
    }


@require_http_methods(["GET", "POST"])
def qr_pay(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    context: dict[str, Any] = {"step": "scan", "payload": ""}
    resumed = _recall(request) if request.method == "GET" else None
    if resumed is not None:
        key, form = resumed
        try:
            context = _qr_confirm_context(who, form.get("payload", ""), key)
            context.update(amount=form.get("amount", ""), resumed=True)
        except DomainError as exc:
            context["error"] = _qr_error(exc)
    if request.method == "POST":
        step = request.POST.get("step", "decode")
        payload = ""
        try:
            payload = _uploaded_payload(request)
            context["payload"] = payload
            if not payload:
                raise InvalidInput(
                    _("Paste the text of the QR code or upload it."), code="qr_required"
                )
            context = _qr_confirm_context(who, payload, _key(request), payable=step != "pay")
            if step == "pay":
                debit = _uuid(request.POST.get("debit_account", ""))
                amount_text = request.POST.get("amount", "").strip()
                context["amount"] = amount_text
                if debit is None:
                    raise DebitAccountInvalid(_("Choose the account to pay from."))
                with transaction.atomic():
                    view = services.do_pay_merchant_qr(
                        who,
                        payload=payload,
                        debit_account_id=debit,
                        amount=Money.parse(amount_text, "CNY") if amount_text else None,
                        channel="web",
                        idempotency_key=context["key"],
                    )
                _forget(request, context["key"])
                messages.success(
                    request, _("You paid %(merchant)s.") % {"merchant": view.merchant_name}
                )
                return redirect(f"/me/payments/{view.order_id}/")
        except StepUpRequired:
            key = context.get("key", _new_key())
            _remember(
                request,
                key,
                {"payload": payload, "amount": request.POST.get("amount", "").strip()},
            )
            return _to_step_up(request, f"{request.path}?resume={key}")
        except DomainError as exc:
            context["error"] = _qr_error(exc)
    return render(request, "payments/qr_pay.html", context)


# ------------------------------------------------------------------ my payment code
def qr_svg(text: str) -> SafeString:
    """The QR image of ``text`` as inline SVG (no script; the page's CSP allows it)."""
    return mark_safe(qr.qr_svg(text, scale=6))  # noqa: S308 - segno's markup of escaped digits


@require_http_methods(["GET", "POST"])
def payment_code(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    context: dict[str, Any] = {"accounts": _account_choices(who)}
    if request.method == "POST":
        try:
            debit = _uuid(request.POST.get("debit_account", ""))
            if debit is None:
                raise DebitAccountInvalid(_("Choose the account to pay from."))
            with transaction.atomic():
                code = services.do_issue_payment_code(who, debit)
        except DomainError as exc:
            context["error"] = error_message(exc)
        else:
            context.update(
                code=code,
                grouped=" ".join(code.code[i : i + 4] for i in range(0, len(code.code), 4)),
                svg=qr_svg(code.code),
                seconds=services.PAYMENT_CODE_SECONDS,
            )
    return render(request, "payments/payment_code.html", context)


# ------------------------------------------------------------------ staff console
def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@staff_required(Action.PAYMENT_VIEW)
def console_search(request: HttpRequest) -> HttpResponse:
    who: Principal = request.principal  # type: ignore[attr-defined]
    form = {
        f: request.GET.get(f, "").strip()
        for f in ("order_id", "customer_id", "state", "rail", "created_from", "created_to")
    }
    rows: list[dict[str, Any]] = []
    searched = any(form.values())
    if searched:
        search = queries.OrderSearch(
            order_id=_uuid(form["order_id"]),
            customer_id=_uuid(form["customer_id"]),
            state=form["state"] if form["state"] in STATES else "",
            rail=form["rail"] if form["rail"] in RAILS else "",
            created_from=_date(form["created_from"]),
            created_to=_date(form["created_to"]),
        )
        rows = [_order_row(v) for v in queries.search_orders(who, search)]
    labels = _state_labels()
    return render(
        request,
        "payments/console_search.html",
        {
            "form": form,
            "rows": rows,
            "searched": searched,
            "states": [(s, labels[s]) for s in STATES],
            "rails": list(_rail_labels().items()),
        },
    )


@staff_required(Action.PAYMENT_VIEW)
def console_order(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    who: Principal = request.principal  # type: ignore[attr-defined]
    try:
        view = queries.access_order(who, order_id)
    except PaymentNotFound as exc:
        raise Http404(error_message(exc)) from exc
    labels = _state_labels()
    return render(
        request,
        "payments/console_order.html",
        {
            **_order_row(view),
            "steps": [{"h": h, "label": labels.get(h.to_state, h.to_state)} for h in view.history],
        },
    )
