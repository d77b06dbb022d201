"""Insight commands: build (lake → engine → serving tables), forget a customer, export.

``do_build`` runs the compiled library on DuckDB or Spark, then in one transaction replaces the
profiles, opens and closes segment memberships (entered / left on the as-of date), records
lifecycle transitions (with an outbox event per change for the relationship manager) and
stores sizes, circle statistics and per-indicator quality.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import transaction

from rongshu.insight import engine as engines
from rongshu.insight.errors import InvalidSegmentCode, UnknownSegment
from rongshu.insight.events import LifecycleStageChanged
from rongshu.insight.library.indicators import BY_ID, INDICATORS
from rongshu.insight.library.segments import ACTIVE_STAGES, SEGMENT_BY_ID, WON_BACK, Segment
from rongshu.insight.models import (
    BuildRun,
    CircleStat,
    CustomerProfile,
    IndicatorQuality,
    SavedSegment,
    SegmentMembership,
    SegmentSize,
    StageTransition,
)
from rongshu.insight.rules import KEYWORDS, compile_rule
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.outbox import record_events

Progress = Callable[[str], None]
BATCH = 2000


def lake_dir() -> Path:
    configured = os.environ.get("RONGSHU_LAKE_DIR", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "lake"


def results_dir() -> Path:
    """Where the build leaves its Parquet results (the builder's live estimate reads them)."""
    configured = os.environ.get("RONGSHU_INSIGHT_DIR", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "insight"


def write_results(results: engines.Results, folder: Path | None = None) -> Path:
    import pyarrow.parquet as pq

    out = folder or results_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in ("profile", "segments", "stages"):
        tmp = out / f".{name}.parquet.tmp"
        pq.write_table(getattr(results, name), tmp)
        tmp.replace(out / f"{name}.parquet")
    return out


@dataclass(frozen=True)
class BuildSummary:
    as_of: dt.date
    engine: str
    customers: int
    indicators: int
    segments: int
    entered: int
    left: int
    transitions: int
    timings: dict[str, float]


def run_engine(
    *,
    as_of: dt.date,
    engine: str = "duckdb",
    lake: Path | None = None,
    progress: Progress | None = None,
    incremental: bool = False,
) -> engines.Results:
    """Compute without touching the serving tables (for exports, benches and comparisons).

    ``incremental`` (DuckDB only): bring the state under ``<results dir>/state/`` to ``as_of``
    from per-day partials (:mod:`rongshu.insight.incremental`; a full build the first time, or
    when the library changed or the date went back)."""
    if incremental and engine == "duckdb":
        from rongshu.insight import incremental as inc

        try:
            return inc.run(
                lake or lake_dir(),
                results_dir() / "state",
                as_of,
                progress=progress,
                extra_segments=saved_segments(),
            )
        except inc.IncrementalUnsupported:
            pass  # an indicator that cannot be split: the full build below
    eng = engines.open_engine(engine, lake or lake_dir())
    try:
        return engines.run(eng, as_of, progress, saved_segments())
    finally:
        eng.close()


# ------------------------------------------------------------------ saved custom segments
CUSTOM_FAMILY = "custom"
CODE = re.compile(r"[a-z][a-z0-9_]{2,47}")
NAME_MAX = 100


def saved_segments(*, active_only: bool = True) -> list[Segment]:
    """Saved custom segments as library-shaped dicts (family ``custom``), by code."""
    rows = SavedSegment.objects.order_by("code")
    if active_only:
        rows = rows.filter(active=True)
    return [
        {
            "id": s.code,
            "zh": s.zh,
            "en": s.en,
            "family": s.family,
            "rule": s.rule,
            "named": False,
            "version": s.version,
            "active": s.active,
            "created_by": s.created_by,
            "created_at": s.created_at,
        }
        for s in rows
    ]


def _check_code(code: str) -> None:
    if not CODE.fullmatch(code):
        raise InvalidSegmentCode(
            "a code is 3 to 48 characters: lowercase letters, digits and _, starting with a letter"
        )
    if code in SEGMENT_BY_ID or code in BY_ID or code in KEYWORDS or code == "customer_id":
        raise InvalidSegmentCode(f"{code!r} is already a shipped segment, an indicator or a word")


@transaction.atomic
def do_save_segment(*, actor: str, code: str, zh: str, en: str, rule: str) -> SavedSegment:
    """Save a custom segment, or edit the one with this code (``version`` + 1, active again).

    The rule is parsed and type-checked by :func:`rongshu.insight.rules.compile_rule` (never
    ``eval``; :class:`InvalidRule` with the parser's message); the next build evaluates it."""
    code = code.strip()
    _check_code(code)
    zh, en = zh.strip()[:NAME_MAX], en.strip()[:NAME_MAX]
    if not zh or not en:
        raise InvalidSegmentCode("both the Chinese and the English name are required")
    compiled = compile_rule(rule)  # raises InvalidRule
    now = clock.now()
    saved = SavedSegment.objects.select_for_update().filter(code=code).first()
    if saved is None:
        saved = SavedSegment.objects.create(
            code=code,
            zh=zh,
            en=en,
            family=CUSTOM_FAMILY,
            rule=rule.strip(),
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        action = "insight.segment_saved"
    else:
        saved.zh, saved.en, saved.rule = zh, en, rule.strip()
        saved.version += 1
        saved.active = True
        saved.updated_at = now
        saved.save()
        action = "insight.segment_edited"
    do_audit(
        actor,
        action,
        object_type="segment",
        object_id=code,
        data={"rule": saved.rule, "version": saved.version, "sql": compiled.sql},
    )
    return saved


@transaction.atomic
def do_deactivate_segment(*, actor: str, code: str) -> SavedSegment:
    """Stop evaluating a saved segment: the next build closes its open memberships."""
    saved = SavedSegment.objects.select_for_update().filter(code=code).first()
    if saved is None:
        raise UnknownSegment()
    if saved.active:
        saved.active = False
        saved.updated_at = clock.now()
        saved.save(update_fields=["active", "updated_at"])
        do_audit(
            actor,
            "insight.segment_deactivated",
            object_type="segment",
            object_id=code,
            data={"version": saved.version},
        )
    return saved


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def do_build(
    *,
    as_of: dt.date | None = None,
    engine: str = "duckdb",
    lake: Path | None = None,
    progress: Progress | None = None,
    incremental: bool = False,
) -> BuildSummary:
    day = as_of or clock.get_business_date()
    say = progress or (lambda _m: None)
    started = clock.now()
    results = run_engine(as_of=day, engine=engine, lake=lake, progress=say, incremental=incremental)
    write_results(results)
    say("load serving tables")
    summary = _load(results, started)
    say("done")
    return summary


@transaction.atomic
def _load(results: engines.Results, started: dt.datetime) -> BuildSummary:
    day = results.as_of
    profile = results.profile
    ids: list[str] = profile.column("customer_id").to_pylist()
    # -- lifecycle: previous stage per customer, won_back when dormant/churned came back
    previous = dict(CustomerProfile.objects.values_list("customer_id", "stage"))
    since = dict(CustomerProfile.objects.values_list("customer_id", "stage_since"))
    stages = dict(
        zip(
            results.stages.column("customer_id").to_pylist(),
            results.stages.column("stage").to_pylist(),
            strict=True,
        )
    )
    transitions: list[StageTransition] = []
    for cid, stage in list(stages.items()):
        before = previous.get(cid, "")
        if before in ("dormant", "churned") and stage in ACTIVE_STAGES:
            stage = WON_BACK[0]
        elif before == WON_BACK[0] and stage in ACTIVE_STAGES:
            stage = WON_BACK[0] if since.get(cid) and (day - since[cid]).days < 90 else stage  # type: ignore[operator]
        stages[cid] = stage
        if stage != before:
            transitions.append(
                StageTransition(customer_id=cid, from_stage=before, to_stage=stage, on=day)
            )
    # -- profiles: replace (customers without consent are not in the build and are removed)
    CustomerProfile.objects.all().delete()
    columns = [c for c in profile.column_names if c != "customer_id"]
    data = [profile.column(c).to_pylist() for c in columns]
    rows = []
    for n, cid in enumerate(ids):
        values = {c: _clean(data[k][n]) for k, c in enumerate(columns)}
        changed = stages.get(cid, "") != previous.get(cid, "")
        rows.append(
            CustomerProfile(
                customer_id=cid,
                as_of=day,
                values=values,
                stage=stages.get(cid, ""),
                stage_since=day if changed else since.get(cid) or day,
            )
        )
    CustomerProfile.objects.bulk_create(rows, batch_size=BATCH)
    StageTransition.objects.bulk_create(transitions, batch_size=BATCH)
    events = [
        (
            LifecycleStageChanged(
                customer_id=t.customer_id,
                from_stage=t.from_stage,
                to_stage=t.to_stage,
                on=day.isoformat(),
            ),
            f"insight.stage:{t.customer_id}:{day.isoformat()}",
        )
        for t in transitions
        if t.from_stage
    ]
    if events:
        record_events(events)
    # -- memberships
    seg = results.segments
    seg_ids = [c for c in seg.column_names if c != "customer_id"]
    seg_customers = seg.column("customer_id")
    new: set[tuple[str, str]] = set()
    sizes: dict[str, int] = {}
    composition: dict[str, Counter[str]] = {}
    for sid in seg_ids:
        members = pc.filter(seg_customers, seg.column(sid)).to_pylist()
        sizes[sid] = len(members)
        composition[sid] = Counter(stages.get(m, "") for m in members)
        new.update((sid, m) for m in members)
    open_rows = {
        (s, c): pk
        for pk, s, c in SegmentMembership.objects.filter(left_on__isnull=True).values_list(
            "pk", "segment_id", "customer_id"
        )
    }
    gone = [pk for key, pk in open_rows.items() if key not in new]
    for start in range(0, len(gone), BATCH):
        SegmentMembership.objects.filter(pk__in=gone[start : start + BATCH]).update(left_on=day)
    entered = [
        SegmentMembership(segment_id=s, customer_id=c, entered_on=day)
        for s, c in sorted(new)
        if (s, c) not in open_rows
    ]
    SegmentMembership.objects.bulk_create(entered, batch_size=BATCH)
    SegmentSize.objects.filter(as_of=day).delete()
    SegmentSize.objects.bulk_create(
        SegmentSize(segment_id=s, as_of=day, size=sizes[s], composition=dict(composition[s]))
        for s in seg_ids
    )
    # -- circles and quality
    CircleStat.objects.filter(as_of=day).delete()
    CircleStat.objects.bulk_create(
        CircleStat(
            circle_id=r["circle_id"],
            as_of=day,
            members=int(r["members"] or 0),
            holding=int(r["holding"] or 0),
            engaged=int(r["engaged"] or 0),
        )
        for r in results.circles.to_pylist()
    )
    IndicatorQuality.objects.filter(as_of=day).delete()
    IndicatorQuality.objects.bulk_create(_quality(profile, day, results.freshness))
    BuildRun.objects.create(
        as_of=day,
        engine=results.engine,
        started_at=started,
        finished_at=clock.now(),
        customers=len(ids),
        indicators=len(columns),
        segments=len(seg_ids),
        timings=results.timings,
    )
    do_audit(
        "system",
        "insight.build",
        object_type="build",
        object_id=day.isoformat(),
        data={"engine": results.engine, "customers": len(ids)},
    )
    return BuildSummary(
        as_of=day,
        engine=results.engine,
        customers=len(ids),
        indicators=len(columns),
        segments=len(seg_ids),
        entered=len(entered),
        left=len(gone),
        transitions=len(transitions),
        timings=results.timings,
    )


def quality_rows(profile: pa.Table) -> dict[str, dict[str, float | None]]:
    """Null rate, minimum, maximum and mean per numeric indicator."""
    out: dict[str, dict[str, float | None]] = {}
    total = max(profile.num_rows, 1)
    for ind in INDICATORS:
        col = profile.column(ind["id"])
        stats: dict[str, float | None] = {"null_rate": col.null_count / total}
        if ind["unit"] != "code" and profile.num_rows and col.null_count < profile.num_rows:
            mm = pc.min_max(col)
            stats["min"] = float(mm["min"].as_py())
            stats["max"] = float(mm["max"].as_py())
            stats["mean"] = float(pc.mean(col).as_py())
        else:
            stats.update({"min": None, "max": None, "mean": None})
        out[ind["id"]] = stats
    return out


def _quality(
    profile: pa.Table, day: dt.date, freshness: dict[str, dt.date | None]
) -> list[IndicatorQuality]:
    rows = []
    for iid, st in quality_rows(profile).items():
        source = BY_ID[iid]["source"]
        rows.append(
            IndicatorQuality(
                indicator_id=iid,
                as_of=day,
                null_rate=st["null_rate"] or 0.0,
                min_value=st["min"],
                max_value=st["max"],
                mean_value=st["mean"],
                fresh_on=freshness.get(source, freshness.get("transactions")),
            )
        )
    return rows


@transaction.atomic
def do_forget_customer(customer_id: str) -> int:
    """Delete every profile row of a customer who withdrew profiling consent."""
    deleted = 0
    for model in (CustomerProfile, SegmentMembership, StageTransition):
        n, _ = model.objects.filter(customer_id=customer_id).delete()
        deleted += n
    do_audit(
        "system",
        "insight.forget",
        object_type="customer",
        object_id=customer_id,
        data={"rows": deleted},
    )
    return deleted


def do_export(
    lake: Path | None = None, *, since: dt.date | None = None, until: dt.date | None = None
) -> dict[str, Any]:
    """Export the OLTP tables and events to the lake (``export.export_lake``); ``since=None``
    continues after the last exported day, the first run exports the whole history."""
    from rongshu.insight import export

    return export.export_lake(lake or lake_dir(), since=since, until=until)
