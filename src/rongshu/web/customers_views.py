"""Staff console for the unified customer view: search, the 360° view, the review queue
(merge / split) and the data-quality dashboard.

The 360° view is composed here from the golden record (customers), accounts and balances
(ledger), consents (identity) and recent payments (payments); loans and segments are slots
filled once lending and insight publish their queries.
"""

from __future__ import annotations

import importlib
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rongshu.customers import queries, services
from rongshu.customers.errors import CustomerNotFound, ReviewPairNotFound
from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal
from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money
from rongshu.ledger import queries as ledger
from rongshu.payments import queries as payments
from rongshu.web.access import staff_required


def _labels() -> dict[str, str]:
    return {
        "name": _("Name"),
        "gender": _("Gender"),
        "birth_on": _("Date of birth"),
        "resident_id": _("Resident ID"),
        "phone": _("Mobile"),
        "email": _("E-mail"),
        "province_code": _("Province"),
        "city_code": _("City"),
        "district_code": _("District"),
        "address_detail": _("Address"),
        "uscc": _("Unified social credit code"),
    }


def _optional(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _who(request: HttpRequest) -> Principal:
    return request.principal  # type: ignore[attr-defined,no-any-return]


@staff_required(Action.CUSTOMER_VIEW)
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    rows = queries.list_customers(_who(request), search=q)
    can_resolve = identity.has_permission(_who(request), Action.CUSTOMER_RESOLVE)
    return render(
        request,
        "customers/search.html",
        {"q": q, "rows": rows, "can_resolve": can_resolve},
    )


@staff_required(Action.CUSTOMER_VIEW)
def customer(request: HttpRequest, customer_id: uuid.UUID) -> HttpResponse:
    who = _who(request)
    try:
        view = queries.access_unified_customer(who, customer_id)
    except CustomerNotFound as exc:
        raise Http404(str(exc)) from exc
    if view.customer_id != customer_id:
        return redirect(f"/console/customers/{view.customer_id}/")
    labels = _labels()
    attributes = [(labels.get(a.name, a.name), a) for a in view.attributes]
    accounts: list[dict[str, Any]] = []
    consents: list[Any] = []
    interactions: list[Any] = []
    loans = segments = None
    profile: dict[str, Any] | None = None
    owner = view.identity_customer_id
    if owner is not None:
        for a in ledger.list_accounts(owner_type="customer", owner_id=str(owner)):
            balance = Money(a.balance, a.currency)
            accounts.append({"a": a, "balance": f"{balance.amount_str()} {a.currency}"})
        consents = identity.list_consents(owner)
        if identity.has_permission(who, Action.PAYMENT_VIEW):
            interactions = payments.search_orders(
                who, payments.OrderSearch(customer_id=owner, limit=10)
            )
        loans_of = _optional("rongshu.lending.queries", "list_loans_of")
        loans = list(loans_of(owner)) if loans_of else None
        segments_of = _optional("rongshu.insight.queries", "segments_of")
        if segments_of is not None and identity.has_permission(who, Action.SEGMENT_VIEW):
            segments = [str(getattr(s, "zh", s)) for s in segments_of(str(owner))]
            profile_of = _optional("rongshu.insight.queries", "profile_of")
            profile = profile_of(str(owner)) if profile_of is not None else None
    return render(
        request,
        "customers/customer.html",
        {
            "c": view,
            "attributes": attributes,
            "accounts": accounts,
            "products": sorted(
                {row["a"].product_code for row in accounts if row["a"].product_code}
            ),
            "consents": consents,
            "interactions": interactions,
            "loans": loans,
            "segments": segments,
            "profile": profile,
            "relationships": queries.list_relationships(who, view.customer_id),
            "can_resolve": identity.has_permission(who, Action.CUSTOMER_RESOLVE),
        },
    )


@staff_required(Action.CUSTOMER_RESOLVE)
def review(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "pending")
    if state not in {"pending", "merge", "split"}:
        state = "pending"
    pairs = queries.list_review_pairs(_who(request), state=state)
    return render(request, "customers/review.html", {"pairs": pairs, "state": state})


@require_POST
@staff_required(Action.CUSTOMER_RESOLVE)
def decide(request: HttpRequest, pair_id: uuid.UUID) -> HttpResponse:
    who = _who(request)
    decision = request.POST.get("decision", "")
    try:
        pair = services.do_decide_review(who, pair_id, decision)
    except ReviewPairNotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("/console/customers/review/")
    record = pair.record_a
    record.refresh_from_db()
    if decision == "merge" and record.customer is not None:
        messages.success(request, _("Merged: the two records are now one customer."))
        return redirect(f"/console/customers/{record.customer.public_id}/")
    messages.success(request, _("Kept apart: the two records stay separate customers."))
    return redirect("/console/customers/review/")


@require_POST
@staff_required(Action.CUSTOMER_RESOLVE)
def resolve(request: HttpRequest) -> HttpResponse:
    result = services.do_resolve()
    messages.success(
        request,
        _("Resolved %(records)s records into %(customers)s customers.")
        % {"records": result.records, "customers": result.customers},
    )
    return redirect("/console/customers/")


@staff_required(Action.CUSTOMER_RESOLVE)
def quality(request: HttpRequest) -> HttpResponse:
    points = queries.list_quality(_who(request))
    keys = [
        ("average_score", _("Average quality score")),
        ("customers", _("Customers")),
        ("invalid_ids", _("Invalid resident IDs")),
        ("new_duplicates", _("New possible duplicates")),
        ("pending_review", _("Pairs waiting for review")),
        ("stale_contacts", _("Stale contacts")),
        ("conflicting_attributes", _("Conflicting attributes")),
    ]
    rows = [
        {"date": p.business_date, "values": [p.metrics.get(k, "") for k, _label in keys]}
        for p in points
    ]
    latest = points[-1].metrics if points else {}
    return render(
        request,
        "customers/quality.html",
        {"keys": [label for _k, label in keys], "rows": rows, "latest": latest},
    )
