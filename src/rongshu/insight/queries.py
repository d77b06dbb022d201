"""Insight reads (public API): a customer's segments and indicator values, the catalogue,
segment sizes over time, quality and circles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rongshu.insight.errors import InvalidRule, UnknownIndicator, UnknownSegment
from rongshu.insight.library.indicators import BY_ID, CATEGORIES, INDICATORS
from rongshu.insight.library.segments import (
    CIRCLE_BY_ID,
    CIRCLES,
    FAMILIES,
    SEGMENT_BY_ID,
    SEGMENTS,
    STAGE_NAMES,
)
from rongshu.insight.models import (
    BuildRun,
    CircleStat,
    CustomerProfile,
    IndicatorQuality,
    SegmentMembership,
    SegmentSize,
    StageTransition,
)

# Lifecycle stage -> (zh, en) names, for channels.
STAGE_LABELS: dict[str, tuple[str, str]] = STAGE_NAMES
CUSTOM_FAMILY: tuple[str, str] = ("自定义", "Custom")


def _custom(*, active_only: bool = True) -> list[dict[str, Any]]:
    from rongshu.insight.services import saved_segments

    return saved_segments(active_only=active_only)


def _all_segments() -> list[dict[str, Any]]:
    """The shipped segments, then the active saved custom ones."""
    return [*SEGMENTS, *_custom()]


def _segment_by_id(segment_id: str) -> dict[str, Any] | None:
    """A shipped segment, or a saved one (deactivated ones too: their history stays)."""
    found = SEGMENT_BY_ID.get(segment_id)
    if found is not None:
        return found
    return next((s for s in _custom(active_only=False) if s["id"] == segment_id), None)


def saved_segments() -> list[dict[str, Any]]:
    """The active saved custom segments (family ``custom``), by code."""
    return _custom()


@dataclass(frozen=True)
class SegmentView:
    id: str
    zh: str
    en: str
    family: str
    rule: str
    entered_on: dt.date | None = None


def segments_of(customer: str) -> list[SegmentView]:
    """The segments a customer is in now (empty without profiling consent or before a build)."""
    rows = SegmentMembership.objects.filter(customer_id=str(customer), left_on__isnull=True)
    known = {s["id"]: s for s in _all_segments()}
    out = []
    for m in rows.order_by("segment_id"):
        s = known.get(m.segment_id)
        if s is not None:
            out.append(SegmentView(s["id"], s["zh"], s["en"], s["family"], s["rule"], m.entered_on))
    return out


def indicator(customer: str, indicator_id: str) -> Any:
    """One indicator value of a customer from the latest build (``None`` if not computed)."""
    if indicator_id not in BY_ID:
        raise UnknownIndicator()
    profile = CustomerProfile.objects.filter(customer_id=str(customer)).first()
    if profile is None:
        return None
    return profile.values.get(indicator_id)


def profile_of(customer: str) -> dict[str, Any] | None:
    """The profile fragment of the 360° view: stage, segments and headline indicators."""
    profile = CustomerProfile.objects.filter(customer_id=str(customer)).first()
    if profile is None:
        return None
    zh, en = STAGE_NAMES.get(profile.stage, ("", profile.stage))
    by_category: dict[str, list[dict[str, Any]]] = {}
    for ind in INDICATORS:
        value = profile.values.get(ind["id"])
        if value in (None, 0) or ind["unit"] == "code":
            continue
        by_category.setdefault(ind["category"], []).append({**ind, "value": value})
    return {
        "customer_id": profile.customer_id,
        "as_of": profile.as_of,
        "stage": profile.stage,
        "stage_zh": zh,
        "stage_en": en,
        "stage_since": profile.stage_since,
        "segments": segments_of(customer),
        "by_category": by_category,
        "transitions": list(
            StageTransition.objects.filter(customer_id=str(customer)).order_by("-on")[:10]
        ),
    }


def catalogue(category: str = "") -> list[dict[str, Any]]:
    return [i for i in INDICATORS if not category or i["category"] == category]


def categories() -> dict[str, tuple[str, str]]:
    return CATEGORIES


def list_segments(family: str = "") -> list[dict[str, Any]]:
    latest = latest_build()
    sizes: dict[str, int] = {}
    if latest is not None:
        sizes = dict(
            SegmentSize.objects.filter(as_of=latest.as_of).values_list("segment_id", "size")
        )
    return [
        {**s, "size": sizes.get(s["id"])}
        for s in _all_segments()
        if not family or s["family"] == family
    ]


def families() -> dict[str, tuple[str, str]]:
    return {**FAMILIES, "custom": CUSTOM_FAMILY}


def segment(segment_id: str) -> dict[str, Any]:
    s = _segment_by_id(segment_id)
    if s is None:
        raise UnknownSegment()
    history = list(SegmentSize.objects.filter(segment_id=segment_id).order_by("as_of"))
    return {**s, "history": history, "latest": history[-1] if history else None}


def segment_members(segment_id: str, *, limit: int = 100) -> list[str]:
    if _segment_by_id(segment_id) is None:
        raise UnknownSegment()
    return list(
        SegmentMembership.objects.filter(segment_id=segment_id, left_on__isnull=True)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[:limit]
    )


def latest_build() -> BuildRun | None:
    return BuildRun.objects.order_by("-finished_at", "-pk").first()


def quality(as_of: dt.date | None = None) -> list[IndicatorQuality]:
    latest = latest_build()
    day = as_of or (latest.as_of if latest else None)
    if day is None:
        return []
    return list(IndicatorQuality.objects.filter(as_of=day).order_by("indicator_id"))


def circles() -> list[dict[str, Any]]:
    latest = latest_build()
    stats: dict[str, CircleStat] = {}
    if latest is not None:
        stats = {c.circle_id: c for c in CircleStat.objects.filter(as_of=latest.as_of)}
    out = []
    for c in CIRCLES:
        st = stats.get(c["id"])
        members = st.members if st else 0
        out.append(
            {
                **c,
                "members": members,
                "penetration": (st.holding / members) if st and members else None,
                "engagement": (st.engaged / members) if st and members else None,
            }
        )
    return out


def circle(circle_id: str) -> dict[str, Any] | None:
    return CIRCLE_BY_ID.get(circle_id)


def estimate(rule: str) -> dict[str, Any]:
    """Live size estimate of a rule over the latest build's profile (DuckDB over Parquet)."""
    import duckdb

    from rongshu.insight.rules import compile_rule
    from rongshu.insight.services import results_dir

    if not rule.strip():
        return {"ok": False, "error": "empty rule", "size": None, "total": None}
    try:
        compiled = compile_rule(rule)
    except InvalidRule as exc:
        return {"ok": False, "error": str(exc.detail), "size": None, "total": None}
    path = results_dir() / "profile.parquet"
    if not path.exists():
        return {"ok": True, "sql": compiled.sql, "size": None, "total": None}
    con = duckdb.connect()
    try:
        row = con.execute(
            # the rule was parsed and re-emitted by rongshu.insight.rules
            f"SELECT COUNT(*) FILTER (WHERE {compiled.sql}), COUNT(*) FROM read_parquet(?)",  # noqa: S608
            [str(path)],
        ).fetchone()
    finally:
        con.close()
    size, total = (int(row[0]), int(row[1])) if row else (0, 0)
    return {
        "ok": True,
        "sql": compiled.sql,
        "size": size,
        "total": total,
        "share": size / total if total else None,
        "indicators": sorted(compiled.indicators),
    }
