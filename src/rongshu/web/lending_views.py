"""Customer and staff pages of the lending domain (快贷 / 善融e贷), mobile first.

Customers: my pre-approved line and loans, apply (decided at once), the decision and the
e-contract (accepting it needs a one-time code: the step-up page, then back here), a loan's
schedule, repay. Staff: the referral review queue (``loan.decide``), the model registry with
approve / activate (``model.approve``, four-eyes) and the portfolio dashboard (exposure, DPD
buckets as SVG bars, vintages, collections queue). Views are thin; errors show in the page in
the user's language.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rongshu.identity.errors import StepUpRequired
from rongshu.identity.types import Action, Principal
from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money
from rongshu.lending import queries, services
from rongshu.lending.errors import ApplicationNotFound
from rongshu.web.access import current_customer, staff_required, to_signin
from rongshu.web.formatting import error_message, money

STEP_UP_PAGE = "/account/step-up/"
SESSION_KEYS = "lending_used_keys"


def _method_labels() -> dict[str, str]:
    return {
        "annuity": _("Equal instalments (等额本息)"),
        "equal_principal": _("Equal principal (等额本金)"),
        "interest_first": _("Interest first, principal at maturity (先息后本)"),
    }


def _state_labels() -> dict[str, str]:
    return {
        "approved": _("Approved"),
        "declined": _("Declined"),
        "referred": _("Under review"),
        "accepted": _("Accepted"),
        "disbursed": _("Paid out"),
        "cancelled": _("Cancelled"),
        "active": _("Active"),
        "closed": _("Repaid"),
        "written_off": _("Written off"),
    }


def _yuan(minor: int) -> str:
    return money(Money(minor, "CNY"))


def _pct(rate: Any) -> str:
    return f"{rate * 100:.2f}%" if rate is not None else "—"


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _fresh_key(request: HttpRequest) -> bool:
    """A form's one-time key: a double submit of the same form is refused."""
    key = request.POST.get("key", "")[:60]
    used = list(request.session.get(SESSION_KEYS, []))
    if not key or key in used:
        return False
    request.session[SESSION_KEYS] = ([*used, key])[-20:]
    return True


# ------------------------------------------------------------------ customers
def home(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    assert who.customer_id is not None
    offer = queries.find_offer(who.customer_id)
    loans = queries.list_my_loans(who)
    apps = queries.list_my_applications(who)
    states = _state_labels()
    return render(
        request,
        "lending/home.html",
        {
            "offer": offer,
            "offer_limit": _yuan(offer.limit_minor) if offer else "",
            "offer_rate": _pct(offer.annual_rate) if offer else "",
            "loans": [
                {
                    "v": v,
                    "outstanding": _yuan(v.outstanding),
                    "due_now": _yuan(v.due_now),
                    "state": states.get(v.state, v.state),
                }
                for v in loans
            ],
            "apps": [
                {"a": a, "amount": _yuan(a.amount_minor), "state": states.get(a.state, a.state)}
                for a in apps
            ],
        },
    )


def apply(request: HttpRequest) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    assert who.customer_id is not None
    product_code = request.GET.get("product", request.POST.get("product_code", "kuaidai"))
    product = queries.get_product(product_code)
    offer = queries.find_offer(who.customer_id, product.code)
    form = {
        "amount": request.POST.get("amount", ""),
        "term_months": request.POST.get("term_months", "12"),
        "method": request.POST.get("method", "annuity"),
    }
    context: dict[str, Any] = {
        "product": product,
        "offer_limit": _yuan(offer.limit_minor) if offer else "",
        "min": _yuan(product.min_amount),
        "max": _yuan(product.max_amount),
        "methods": [(m, _method_labels()[m]) for m in product.methods],
        "form": form,
        "key": f"web-{uuid.uuid4()}",
    }
    if request.method == "POST":
        try:
            app = services.do_apply(
                who,
                product_code=product.code,
                amount=Money.parse(form["amount"].replace(",", ""), "CNY"),
                term_months=int(form["term_months"] or 0),
                method=form["method"],
                consent=request.POST.get("consent") == "on",
            )
        except DomainError as exc:
            context["error"] = error_message(exc)
        except ValueError:
            context["error"] = _("Enter the term in months.")
        else:
            return redirect(f"/me/loans/applications/{app.public_id}/")
    return render(request, "lending/apply.html", context)


def application(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        app = services.access_application(who, application_id)
    except ApplicationNotFound as exc:
        raise Http404(str(exc)) from exc
    today_contract = services.contract_text(app, app.created_at.date())
    return render(
        request,
        "lending/application.html",
        {
            "a": app,
            "state": _state_labels().get(app.state, app.state),
            "amount": _yuan(app.amount_minor),
            "limit": _yuan(app.limit_minor),
            "rate": _pct(app.annual_rate),
            "method": _method_labels().get(app.method, app.method),
            "contract": today_contract,
            "loan": getattr(app, "loan", None),
        },
    )


@require_POST
def accept(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    back = f"/me/loans/applications/{application_id}/"
    try:
        loan = services.do_accept(who, application_id)
    except StepUpRequired:
        messages.info(request, _("Sign the contract with a one-time code, then accept it again."))
        return redirect(
            f"{STEP_UP_PAGE}?action={services.STEP_UP_ACTION}&next={quote(back, safe='')}"
        )
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return redirect(back)
    messages.success(request, _("The money has been paid into your account."))
    return redirect(f"/me/loans/{loan.public_id}/")


def loan(request: HttpRequest, loan_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    try:
        v = queries.get_loan(who, loan_id)
    except DomainError as exc:
        raise Http404(str(exc)) from exc
    status = {
        "paid": _("Paid"),
        "due": _("Due"),
        "overdue": _("Overdue"),
        "future": _("Upcoming"),
    }
    return render(
        request,
        "lending/loan.html",
        {
            "v": v,
            "state": _state_labels().get(v.state, v.state),
            "principal": _yuan(v.principal),
            "outstanding": _yuan(v.outstanding),
            "due_now": _yuan(v.due_now),
            "payoff": _yuan(v.payoff),
            "payoff_plain": f"{v.payoff / 100:.2f}",
            "rate": _pct(v.annual_rate),
            "penalty_rate": _pct(v.penalty_rate),
            "method": _method_labels().get(v.method, v.method),
            "rows": [
                {
                    "i": i,
                    "principal": _yuan(i.principal),
                    "interest": _yuan(i.interest),
                    "penalty": _yuan(i.penalty),
                    "due": _yuan(i.due),
                    "status": status[i.status],
                }
                for i in v.instalments
            ],
            "key": f"web-{uuid.uuid4()}",
        },
    )


@require_POST
def repay(request: HttpRequest, loan_id: uuid.UUID) -> HttpResponse:
    who = current_customer(request)
    if who is None:
        return to_signin(request)
    back = f"/me/loans/{loan_id}/"
    if not _fresh_key(request):
        messages.info(request, _("This repayment was already submitted."))
        return redirect(back)
    try:
        amount = Money.parse(request.POST.get("amount", "").replace(",", "").strip(), "CNY")
        services.do_repay(who, loan_id, amount)
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Thank you, your repayment was received."))
    return redirect(back)


# ------------------------------------------------------------------ staff
@staff_required(Action.LOAN_DECIDE)
def console_queue(request: HttpRequest) -> HttpResponse:
    rows = [
        {"a": a, "amount": _yuan(a.amount_minor), "rate": _pct(a.annual_rate)}
        for a in queries.list_review_queue()
    ]
    collections = [
        {"l": loan, "outstanding": _yuan(loan.outstanding_minor), "bucket": _bucket(loan.dpd)}
        for loan in queries.list_collections()
    ]
    return render(request, "lending/console_queue.html", {"rows": rows, "collections": collections})


def _bucket(dpd: int) -> str:
    return queries.bucket(dpd)


@staff_required(Action.LOAN_DECIDE)
@require_POST
def console_review(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    who: Principal = request.principal  # type: ignore[attr-defined]
    try:
        services.do_review(
            who,
            application_id,
            approve=request.POST.get("decision") == "approve",
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("/console/lending/")


@staff_required(Action.MODEL_APPROVE)
def console_models(request: HttpRequest) -> HttpResponse:
    return render(request, "lending/console_models.html", {"models": queries.list_models()})


@staff_required(Action.MODEL_APPROVE)
@require_POST
def console_model_action(request: HttpRequest, model_id: uuid.UUID, action: str) -> HttpResponse:
    who: Principal = request.principal  # type: ignore[attr-defined]
    commands = {"approve": services.do_approve_model, "activate": services.do_activate_model}
    command = commands.get(action)
    if command is None:
        raise Http404()
    try:
        command(who, model_id)
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Model updated."))
    return redirect("/console/lending/models/")


def _bars(rows: list[Any], *, money: bool) -> list[dict[str, Any]]:
    top = max((r.amount for r in rows), default=0) or 1
    return [
        {
            "label": r.label,
            "count": r.count,
            "amount": _yuan(r.amount) if money else str(r.amount),
            "width": max(1, round(240 * r.amount / top)) if r.amount else 0,
            "y": 24 * k,
        }
        for k, r in enumerate(rows)
    ]


@staff_required(Action.LOAN_DECIDE)
def console_portfolio(request: HttpRequest) -> HttpResponse:
    data = queries.get_portfolio()
    vint = [
        {
            "label": r.label,
            "count": r.count,
            "late": r.amount,
            "rate": f"{100 * r.amount / r.count:.1f}%" if r.count else "—",
        }
        for r in data["vintages"]
    ]
    return render(
        request,
        "lending/console_portfolio.html",
        {
            "exposure": _bars(data["exposure"], money=True),
            "buckets": _bars(data["buckets"], money=True),
            "height": 24 * len(data["buckets"]),
            "vintages": vint,
        },
    )
