"""Insight endpoints for staff with ``segment.view``: the indicator catalogue, segments (sizes,
history, members), a rule's live size estimate, circles, quality and one customer's profile
(404 when the customer has no profile — e.g. withdrew profiling consent). Staff with
``segment.manage`` save custom segments (``POST /segments``: a bad rule is a 422 problem with
the parser's message) and deactivate them (``DELETE /segments/{code}``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.identity.services import check_permission
from rongshu.identity.types import Action
from rongshu.insight import queries, services
from rongshu.insight.errors import UnknownSegment
from rongshu.kernel.errors import NotFound

router = Router(tags=["insight"], auth=principal_auth)


def _staff(request: HttpRequest) -> None:
    check_permission(principal(request), Action.SEGMENT_VIEW)


class IndicatorOut(Schema):
    id: str
    zh: str
    en: str
    category: str
    description: str
    unit: str
    source: str
    window: int
    sql: str
    version: int


class SegmentOut(Schema):
    id: str
    zh: str
    en: str
    family: str
    rule: str
    named: bool
    version: int
    size: int | None = None


class SegmentIn(Schema):
    code: str = Field(..., max_length=48, description="lowercase letters, digits and _")
    zh: str = Field(..., max_length=100)
    en: str = Field(..., max_length=100)
    rule: str = Field(..., max_length=2000)


class SavedSegmentOut(Schema):
    id: str
    zh: str
    en: str
    family: str
    rule: str
    version: int
    active: bool
    created_by: str
    created_at: dt.datetime


class SizePoint(Schema):
    as_of: dt.date
    size: int
    composition: dict[str, int]


class SegmentDetailOut(SegmentOut):
    history: list[SizePoint]
    members: list[str]


class EstimateIn(Schema):
    rule: str = Field("", max_length=2000)


class EstimateOut(Schema):
    ok: bool
    size: int | None = None
    total: int | None = None
    sql: str | None = None
    error: str | None = None


class ProfileSegment(Schema):
    id: str
    zh: str
    en: str
    family: str
    entered_on: dt.date | None


class ProfileOut(Schema):
    customer_id: str
    as_of: dt.date
    stage: str
    stage_since: dt.date | None
    segments: list[ProfileSegment]
    indicators: dict[str, Any]


class CircleOut(Schema):
    id: str
    zh: str
    en: str
    segment: str
    bank_products: list[str]
    partner_services: list[str]
    members: int
    penetration: float | None
    engagement: float | None


class QualityOut(Schema):
    indicator_id: str
    as_of: dt.date
    null_rate: float
    min_value: float | None
    max_value: float | None
    mean_value: float | None
    fresh_on: dt.date | None


@router.get("/indicators", response=list[IndicatorOut], summary="Staff: indicator catalogue")
def list_indicators(request: HttpRequest, category: str = "") -> list[dict[str, Any]]:
    _staff(request)
    return queries.catalogue(category)


@router.get("/segments", response=list[SegmentOut], summary="Staff: segments with sizes")
def list_segments(request: HttpRequest, family: str = "") -> list[dict[str, Any]]:
    _staff(request)
    return queries.list_segments(family)


def _saved_out(saved: Any) -> dict[str, Any]:
    return {
        "id": saved.code,
        "zh": saved.zh,
        "en": saved.en,
        "family": saved.family,
        "rule": saved.rule,
        "version": saved.version,
        "active": saved.active,
        "created_by": saved.created_by,
        "created_at": saved.created_at,
    }


@router.post(
    "/segments",
    response={200: SavedSegmentOut, 201: SavedSegmentOut},
    summary="Staff: save a custom segment (an existing code is edited: version + 1)",
)
@command()
def save_segment(request: HttpRequest, payload: SegmentIn) -> Status[dict[str, Any]]:
    who = principal(request)
    check_permission(who, Action.SEGMENT_MANAGE)
    saved = services.do_save_segment(
        actor=who.principal_key, code=payload.code, zh=payload.zh, en=payload.en, rule=payload.rule
    )
    return Status(201 if saved.version == 1 else 200, _saved_out(saved))


@router.delete(
    "/segments/{segment_id}",
    response=SavedSegmentOut,
    summary="Staff: deactivate a saved custom segment (the next build closes its memberships)",
)
@command()
def deactivate_segment(request: HttpRequest, segment_id: str) -> dict[str, Any]:
    who = principal(request)
    check_permission(who, Action.SEGMENT_MANAGE)
    return _saved_out(services.do_deactivate_segment(actor=who.principal_key, code=segment_id))


@router.get("/segments/{segment_id}", response=SegmentDetailOut, summary="Staff: one segment")
def get_segment(request: HttpRequest, segment_id: str) -> dict[str, Any]:
    _staff(request)
    seg = queries.segment(segment_id)
    latest = seg["latest"]
    return {
        **seg,
        "size": latest.size if latest else None,
        "history": [
            {"as_of": h.as_of, "size": h.size, "composition": h.composition} for h in seg["history"]
        ],
        "members": queries.segment_members(segment_id),
    }


@router.get("/estimate", response=EstimateOut, summary="Staff: live size of a segment rule")
def estimate(request: HttpRequest, params: Query[EstimateIn]) -> dict[str, Any]:
    _staff(request)
    return queries.estimate(params.rule)


@router.get("/circles", response=list[CircleOut], summary="Staff: ecosystem circles")
def list_circles(request: HttpRequest) -> list[dict[str, Any]]:
    _staff(request)
    return queries.circles()


@router.get("/quality", response=list[QualityOut], summary="Staff: indicator quality")
def list_quality(request: HttpRequest) -> list[Any]:
    _staff(request)
    return queries.quality()


@router.get(
    "/customers/{customer_id}/profile", response=ProfileOut, summary="Staff: a customer's profile"
)
def customer_profile(request: HttpRequest, customer_id: str) -> dict[str, Any]:
    _staff(request)
    profile = queries.profile_of(customer_id)
    if profile is None:
        raise NotFound("no profile for this customer")
    values = {i["id"]: i["value"] for items in profile["by_category"].values() for i in items}
    return {**profile, "indicators": values}


__all__ = ["UnknownSegment", "router"]
