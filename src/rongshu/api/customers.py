"""Unified customer view endpoints (staff only): the 360° view, the review queue, resolution
runs and data-quality trends.

The 360° view is composed here, in the channel layer: the golden record comes from
``customers`` (layer 1); accounts and balances from the ledger, consents from identity and
recent interactions from payments. Loans and segments are slots filled once ``lending`` and
``insight`` publish their queries. Every view is audited; PII is masked by role.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.customers import queries, services
from rongshu.customers.types import CustomerView
from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal, PrincipalKind
from rongshu.kernel.errors import PermissionDenied
from rongshu.ledger import queries as ledger
from rongshu.payments import queries as payments

router = Router(tags=["customers"], auth=principal_auth)


def _staff(request: HttpRequest, action: Action) -> Principal:
    who = principal(request)
    if who.kind is not PrincipalKind.STAFF:
        raise PermissionDenied()
    identity.check_permission(who, action)
    return who


class AttributeOut(Schema):
    name: str
    value: str
    source: str
    record_id: str
    batch_id: str
    received_at: str


class RecordOut(Schema):
    record_id: uuid.UUID
    source: str
    record_key: str
    batch_id: uuid.UUID
    received_at: dt.datetime
    name: str
    phone: str
    resident_id: str
    birth_on: str
    address: str


class AccountOut(Schema):
    account_id: uuid.UUID
    name: str
    product_code: str
    status: str
    currency: str
    balance_minor: int
    available_minor: int


class ConsentOut(Schema):
    purpose: str
    granted: bool


class InteractionOut(Schema):
    channel: str
    kind: str
    at: dt.datetime
    summary: str


class CustomerOut(Schema):
    id: uuid.UUID
    status: str
    display_name: str
    identity_customer_id: uuid.UUID | None
    attributes: list[AttributeOut]
    records: list[RecordOut]
    quality_score: int
    quality_issues: list[str]
    accounts: list[AccountOut]
    products: list[str]
    consents: list[ConsentOut]
    interactions: list[InteractionOut]
    relationships: list[dict[str, Any]]
    loans: list[dict[str, Any]] | None  # None: the lending domain has not landed
    segments: list[str] | None  # None: the insight domain has not landed
    lifecycle: dict[str, Any] | None = None  # stage, since, as_of; None: no profile built


class SummaryOut(Schema):
    id: uuid.UUID
    display_name: str
    sources: list[str]
    quality_score: int


class PairOut(Schema):
    id: uuid.UUID
    match_probability: float
    model_version: str
    state: str
    a: RecordOut
    b: RecordOut
    customer_a: uuid.UUID | None
    customer_b: uuid.UUID | None


class DecisionIn(Schema):
    decision: Literal["merge", "split"]


class ResolveIn(Schema):
    engine: Literal["duckdb", "spark"] = "duckdb"
    retrain: bool = False


class ResolveOut(Schema):
    run_id: uuid.UUID
    engine: str
    model_version: str
    records: int
    customers: int
    created: int
    merged: int
    split: int
    updated: int
    review_pending: int


class QualityOut(Schema):
    business_date: dt.date
    metrics: dict[str, Any]


def _optional(module: str, name: str) -> Any:
    """A function of a domain that may not have landed yet (the 360° view's open slots)."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def compose_360(who: Principal, view: CustomerView) -> dict[str, Any]:
    """Everything the bank knows of one customer, beyond the golden record."""
    out: dict[str, Any] = {
        "accounts": [],
        "products": [],
        "consents": [],
        "interactions": [],
        "relationships": [],
        "loans": None,
        "segments": None,
        "lifecycle": None,
    }
    out["relationships"] = [
        {
            "kind": r.kind,
            "customer_id": str(r.customer_id),
            "display_name": r.display_name,
            "evidence": r.evidence,
        }
        for r in queries.list_relationships(who, view.customer_id)
    ]
    owner = view.identity_customer_id
    if owner is None:
        return out
    accounts = ledger.list_accounts(owner_type="customer", owner_id=str(owner))
    out["accounts"] = [
        {
            "account_id": a.public_id,
            "name": a.name,
            "product_code": a.product_code,
            "status": a.status,
            "currency": a.currency,
            "balance_minor": a.balance,
            "available_minor": a.available,
        }
        for a in accounts
    ]
    out["products"] = sorted({a.product_code for a in accounts if a.product_code})
    if identity.has_permission(who, Action.CONSENT_VIEW) or identity.has_permission(
        who, Action.CUSTOMER_VIEW
    ):
        out["consents"] = [
            {"purpose": c.purpose, "granted": c.granted} for c in identity.list_consents(owner)
        ]
    if identity.has_permission(who, Action.PAYMENT_VIEW):
        orders = payments.search_orders(who, payments.OrderSearch(customer_id=owner, limit=10))
        out["interactions"] = [
            {
                "channel": o.channel,
                "kind": f"payment.{o.rail}",
                "at": o.created_at,
                "summary": f"{o.amount.amount_str()} {o.amount.currency} {o.state}",
            }
            for o in orders
        ]
    # Slots for layer-2 domains built in parallel: wired when their queries exist.
    loans_of = _optional("rongshu.lending.queries", "list_loans_of")
    if loans_of is not None:
        out["loans"] = [dict(vars(x)) if hasattr(x, "__dict__") else x for x in loans_of(owner)]
    segments_of = _optional("rongshu.insight.queries", "segments_of")
    if segments_of is not None and identity.has_permission(who, Action.SEGMENT_VIEW):
        out["segments"] = [str(getattr(s, "id", s)) for s in segments_of(str(owner))]
        profile_of = _optional("rongshu.insight.queries", "profile_of")
        profile = profile_of(str(owner)) if profile_of is not None else None
        if profile is not None:
            out["lifecycle"] = {
                "stage": profile["stage"],
                "since": profile["stage_since"],
                "as_of": profile["as_of"],
            }
    return out


@router.get("/unified", response=list[SummaryOut], summary="Search unified customers")
def list_customers(request: HttpRequest, q: str = "", limit: int = 50) -> list[SummaryOut]:
    who = _staff(request, Action.CUSTOMER_VIEW)
    rows = queries.list_customers(who, search=q, limit=max(1, min(limit, 200)))
    return [SummaryOut(id=r.customer_id, **_drop(vars(r), "customer_id")) for r in rows]


def _drop(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


@router.get("/unified/{customer_id}", response=CustomerOut, summary="A customer's 360° view")
def get_customer(request: HttpRequest, customer_id: str) -> CustomerOut:
    who = _staff(request, Action.CUSTOMER_VIEW)
    view = queries.access_unified_customer(who, customer_id)
    extra = compose_360(who, view)
    return CustomerOut(
        id=view.customer_id,
        status=view.status,
        display_name=view.display_name,
        identity_customer_id=view.identity_customer_id,
        attributes=[AttributeOut(**vars(a)) for a in view.attributes],
        records=[RecordOut(**vars(r)) for r in view.records],
        quality_score=view.quality_score,
        quality_issues=view.quality_issues,
        **extra,
    )


def _pair(p: Any) -> PairOut:
    return PairOut(
        id=p.pair_id,
        match_probability=p.match_probability,
        model_version=p.model_version,
        state=p.state,
        a=RecordOut(**vars(p.a)),
        b=RecordOut(**vars(p.b)),
        customer_a=p.customer_a,
        customer_b=p.customer_b,
    )


@router.get("/review", response=list[PairOut], summary="The review queue")
def list_review(request: HttpRequest, state: str = "pending") -> list[PairOut]:
    who = _staff(request, Action.CUSTOMER_RESOLVE)
    return [_pair(p) for p in queries.list_review_pairs(who, state=state)]


@router.post(
    "/review/{pair_id}/decision", response=PairOut, summary="Merge or split a reviewed pair"
)
@command()
def decide(request: HttpRequest, pair_id: str, payload: DecisionIn) -> PairOut:
    who = _staff(request, Action.CUSTOMER_RESOLVE)
    queries.access_review_pair(who, pair_id)
    services.do_decide_review(who, pair_id, payload.decision)
    return _pair(queries.access_review_pair(who, pair_id))


@router.post("/resolve", response=ResolveOut, summary="Run entity resolution")
@command()
def resolve(request: HttpRequest, payload: ResolveIn) -> ResolveOut:
    _staff(request, Action.CUSTOMER_RESOLVE)
    result = services.do_resolve(engine=payload.engine, retrain=payload.retrain)
    return ResolveOut(**_drop(vars(result), "seconds"))


@router.get("/quality", response=list[QualityOut], summary="Data-quality trend")
def quality(request: HttpRequest, days: int = 30) -> list[QualityOut]:
    who = _staff(request, Action.CUSTOMER_RESOLVE)
    return [QualityOut(**vars(p)) for p in queries.list_quality(who, days=max(1, min(days, 366)))]


__all__ = ["compose_360", "router"]
