"""悦生活 pages (mobile first): pick a city and a category, look up a bill account, pay with a
hold on the customer's funds, see the receipt; staff: reconciliation breaks and biller KPIs."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rongshu.identity import services as identity
from rongshu.identity.types import Action, PartnerScope, Principal, PrincipalKind
from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money, chinese_uppercase
from rongshu.ledger import queries as ledger_queries
from rongshu.lifepay import queries, services
from rongshu.lifepay.types import PayBillRequest
from rongshu.web.access import current_principal, partner_portal, staff_required, to_signin
from rongshu.web.formatting import error_message, money


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    who = current_principal(request)
    if who.kind is not PrincipalKind.CUSTOMER:
        return to_signin(request)
    city = request.GET.get("city") or queries.default_city(who)
    category = request.GET.get("category", "")
    zh = _zh()
    billers = [
        {"code": b.code, "name": b.item_zh if zh else b.item_en, "category": b.category}
        for b in queries.list_billers(city, category)
    ]
    cities = [
        {"code": c.code, "name": c.name_zh if zh else c.name_en} for c in queries.list_cities()
    ]
    return render(
        request,
        "lifepay/home.html",
        {
            "city": city,
            "category": category,
            "cities": cities,
            "categories": [
                {"code": c, "name": queries.category_label(c)} for c in queries.list_categories()
            ],
            "billers": billers,
            "payments": queries.list_my_payments(who, limit=10),
            "notices": queries.list_notices(who, limit=5),
        },
    )


@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, code: str) -> HttpResponse:
    who = current_principal(request)
    if who.kind is not PrincipalKind.CUSTOMER or who.customer_id is None:
        return to_signin(request)
    context: dict[str, Any] = {"key": f"web-{uuid.uuid4()}", "account_no": "", "zh": _zh()}
    try:
        context["biller"] = queries.get_biller(code)
    except DomainError as exc:
        context["error"] = error_message(exc)
        return render(request, "lifepay/pay.html", context, status=404)
    context["accounts"] = [
        {
            "id": str(a.public_id),
            "label": a.name,
            "available": money(Money(a.available, a.currency)),
        }
        for a in ledger_queries.list_accounts(owner_type="customer", owner_id=str(who.customer_id))
        if a.status == "open"
    ]
    if request.method == "POST":
        number = request.POST.get("account_no", "").strip()
        context["account_no"] = number
        try:
            if request.POST.get("action") == "pay":
                key = request.POST.get("key", "")
                if not key.startswith("web-"):
                    key = f"web-{uuid.uuid4()}"
                with transaction.atomic():
                    view = services.do_pay_bill(
                        who,
                        PayBillRequest(
                            code,
                            number,
                            uuid.UUID(request.POST.get("debit_account", "")),
                            Money.parse(request.POST.get("amount", ""), "CNY"),
                            request.POST.get("bill_ref", ""),
                        ),
                        idempotency_key=key[:80],
                        channel="web",
                    )
                return redirect(f"/me/lifepay/payments/{view.payment_id}/")
            context["inquiry"] = services.do_inquire(who, code, number)
        except DomainError as exc:
            context["error"] = error_message(exc)
        except ValueError:
            context["error"] = str(_("Choose the account to pay from."))
    return render(request, "lifepay/pay.html", context)


@require_http_methods(["GET"])
def receipt(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    who = current_principal(request)
    if who.kind is not PrincipalKind.CUSTOMER:
        return to_signin(request)
    try:
        view = queries.get_payment(who, payment_id)
    except DomainError as exc:
        return render(request, "lifepay/receipt.html", {"error": error_message(exc)}, status=404)
    return render(
        request,
        "lifepay/receipt.html",
        {
            "p": view,
            "amount": money(view.amount),
            "fee": money(view.fee),
            "uppercase": chinese_uppercase(view.amount),
            "zh": _zh(),
        },
    )


@staff_required(Action.PAYMENT_VIEW)
def console(request: HttpRequest) -> HttpResponse:
    return render(request, "lifepay/console.html", _console_context())


# what staff read for a break's kind, state and resolution (docs/lifepay.md, Reconciliation)
_BREAK_LABELS = {
    "ours_only": gettext_lazy("Paid with us, missing from the biller's file"),
    "theirs_only": gettext_lazy("In the biller's file, not paid with us"),
    "amount_mismatch": gettext_lazy("Amounts differ"),
    "unconfirmed": gettext_lazy("Voided with us, biller could not confirm"),
    "open": gettext_lazy("Open"),
    "resolved": gettext_lazy("Resolved"),
    "resend": gettext_lazy("sent again"),
    "refund": gettext_lazy("refunded"),
    "post": gettext_lazy("charged"),
    "recall": gettext_lazy("recalled"),
    "correct": gettext_lazy("corrected"),
    "verify": gettext_lazy("verified"),
}


def _label(code: str) -> str:
    return str(_BREAK_LABELS.get(code, code))


def _console_context() -> dict[str, Any]:
    return {
        "breaks": [
            {
                "row": b,
                "kind": _label(b.kind),
                "status": " · ".join(_label(x) for x in (b.state, b.resolution) if x),
            }
            for b in queries.list_breaks()
        ],
        "kpis": queries.biller_kpis(),
        "pending": queries.pending_billers(),
    }


@require_POST
@staff_required(Action.PAYMENT_MANAGE)
def console_resolve(request: HttpRequest, break_id: uuid.UUID) -> HttpResponse:
    who = request.principal  # type: ignore[attr-defined]
    identity.check_permission(who, Action.PAYMENT_MANAGE)
    try:
        with transaction.atomic():
            services.do_resolve_break(
                who.principal_key, break_id, request.POST.get("resolution", "")
            )
    except DomainError as exc:
        return render(
            request,
            "lifepay/console.html",
            {**_console_context(), "error": error_message(exc)},
        )
    return redirect("/console/lifepay/")


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest) -> HttpResponse:
    """Saved bill accounts (add, remove), auto-pay mandates (create with a limit, pause,
    resume, cancel) and bill reminders on one mobile page."""
    who = current_principal(request)
    if who.kind is not PrincipalKind.CUSTOMER or who.customer_id is None:
        return to_signin(request)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            with transaction.atomic():
                _manage_action(who, action, request.POST)
            return redirect("/me/lifepay/manage/")
        except (DomainError, ValueError) as exc:
            error = error_message(exc) if isinstance(exc, DomainError) else _("Invalid input.")
    zh = _zh()
    accounts = [
        {"id": str(a.public_id), "label": a.name}
        for a in ledger_queries.list_accounts(owner_type="customer", owner_id=str(who.customer_id))
        if a.status == "open"
    ]
    return render(
        request,
        "lifepay/manage.html",
        {
            "error": error,
            "zh": zh,
            "saved": queries.list_saved(who),
            "mandates": [
                {"m": m, "limit": money(m.limit)} for m in queries.list_mandates(who) if m.active
            ],
            "notices": queries.list_notices(who, limit=20),
            "accounts": accounts,
        },
        status=422 if error else 200,
    )


def _manage_action(who: Any, action: str, data: Any) -> None:
    if action == "save":
        services.do_save_bill_account(
            who, data.get("biller", ""), data.get("account_no", ""), data.get("nickname", "")
        )
    elif action == "delete":
        services.do_delete_bill_account(who, uuid.UUID(data.get("id", "")))
    elif action == "mandate":
        services.do_create_mandate(
            who,
            data.get("biller", ""),
            data.get("account_no", ""),
            uuid.UUID(data.get("debit_account", "")),
            Money.parse(data.get("limit", ""), "CNY"),
        )
    elif action in ("pause", "resume"):
        services.do_pause_mandate(who, uuid.UUID(data.get("id", "")), action == "pause")
    elif action == "cancel":
        services.do_cancel_mandate(who, uuid.UUID(data.get("id", "")))
    else:
        raise ValueError(action)


# ------------------------------------------------------------------ partner portal
PARTNER_TOKEN = "lifepay_partner_token"  # noqa: S105 - a session key name, not a secret
PARTNER_PAGE = "/partners/lifepay/"


def _partner_context(who: Principal) -> dict[str, Any]:
    zh = _zh()
    rows = [
        {
            "code": r.biller.code,
            "city": r.biller.city_zh if zh else r.biller.city_en,
            "item": r.biller.item_zh if zh else r.biller.item_en,
            "status": r.biller.status,
            "fee": money(r.biller.fee),
            "account_format": r.biller.account_format,
            "payments": r.payments,
            "success_rate": f"{r.success_rate:.1%}" if r.payments else "—",
            "p50": r.latency_p50_ms,
            "p95": r.latency_p95_ms,
            "open_breaks": r.open_breaks,
        }
        for r in queries.partner_billers(who.partner_client_id or "")
    ]
    return {
        "partner": who,
        "billers": rows,
        "cities": [(c.code, c.name_zh if zh else c.name_en) for c in queries.list_cities()],
        "items": [(code, z if zh else e) for code, z, e in queries.list_items()],
        "formats": queries.account_formats(),
        "form": {},
    }


@require_http_methods(["GET", "POST"])
def partner_billers(request: HttpRequest) -> HttpResponse:
    """Partner portal: sign in with the client's credentials, see its billers with KPIs and
    apply for a new one (pending until staff approve it on the lifepay console)."""
    who = partner_portal(
        request,
        key=PARTNER_TOKEN,
        page=PARTNER_PAGE,
        signin_template="lifepay/partner_signin.html",
        scope=PartnerScope.LIFEPAY,
    )
    if isinstance(who, HttpResponse):
        return who
    if request.method == "POST" and request.POST.get("action") == "onboard":
        form = {k: request.POST.get(k, "").strip() for k in _ONBOARD_FIELDS}
        try:
            view = services.do_onboard_biller(
                who.principal_key,
                city_code=form["city_code"],
                item_code=form["item_code"],
                name_zh=form["name_zh"],
                name_en=form["name_en"],
                partner_client_id=who.partner_client_id or "",
                fee=form["fee"] or None,
                account_format=form["account_format"],
                pending=True,
            )
        except DomainError as exc:
            context = _partner_context(who)
            context.update(error=error_message(exc), form=form)
            return render(request, "lifepay/partner.html", context, status=400)
        return redirect(f"{PARTNER_PAGE}?submitted={quote(view.code)}")
    context = _partner_context(who)
    context["submitted"] = request.GET.get("submitted", "")
    return render(request, "lifepay/partner.html", context)


_ONBOARD_FIELDS = ("city_code", "item_code", "name_zh", "name_en", "fee", "account_format")


@require_POST
@staff_required(Action.PAYMENT_MANAGE)
def console_review(request: HttpRequest, code: str) -> HttpResponse:
    """Approve or reject a partner's pending biller (audited)."""
    who = request.principal  # type: ignore[attr-defined]
    try:
        services.do_review_biller(
            who.principal_key, code, approve=request.POST.get("decision") == "approve"
        )
    except DomainError as exc:
        return render(
            request,
            "lifepay/console.html",
            {**_console_context(), "error": error_message(exc)},
            status=400,
        )
    return redirect("/console/lifepay/")
