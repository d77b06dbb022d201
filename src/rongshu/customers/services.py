"""The public write API of the unified customer view: ingest, resolve, review decisions.

* :func:`do_ingest_file` / :func:`do_ingest_rows` keep every input row as a
  :class:`~rongshu.customers.models.SourceRecord` with its lineage (source, batch, time) and
  its standardised form; a batch already received (same checksum) changes nothing.
* :func:`do_ingest_internal` pulls the bank's own customers through identity's public API.
* :func:`do_resolve` links records (deterministic rule, then the Splink model), clusters them,
  assigns stable customer ids, rebuilds golden records and fills the review queue.
* :func:`do_decide_review` records a human merge / split decision, reused by every later run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q

from rongshu.customers import engine as er
from rongshu.customers import pipeline
from rongshu.customers.errors import (
    ReviewAlreadyDecided,
    ReviewPairNotFound,
    SourceFileInvalid,
    UnknownSource,
)
from rongshu.customers.events import CustomersMerged, CustomerSplit
from rongshu.customers.models import (
    Customer,
    MatchLink,
    MatchModel,
    ResolutionRun,
    ReviewPair,
    SourceBatch,
    SourceRecord,
)
from rongshu.customers.standardise import MATCH_COLUMNS, standardise_records
from rongshu.customers.types import (
    FIELDS,
    SOURCES,
    IngestResult,
    ResolveResult,
    SourceKind,
    SourceSpec,
)
from rongshu.identity.services import access_customer, has_consent
from rongshu.identity.types import ConsentPurpose, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import InvalidInput
from rongshu.kernel.outbox import record_event

Progress = Callable[[str], None]

# Attributes of the golden record, in display order.
GOLDEN_FIELDS = (
    "name",
    "gender",
    "birth_on",
    "resident_id",
    "phone",
    "email",
    "province_code",
    "city_code",
    "district_code",
    "address_detail",
    "uscc",
)
STALE_AFTER = dt.timedelta(days=365)


def get_source(name: str) -> SourceSpec:
    spec = SOURCES.get(name)
    if spec is None:
        raise UnknownSource(data={"source": name})
    return spec


# ------------------------------------------------------------------ ingest


def read_file(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV, Parquet or JSON (array or JSON lines) file, every value a string."""
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path).astype(str)
        elif suffix in {".json", ".jsonl", ".ndjson"}:
            lines = suffix != ".json" or path.read_text(encoding="utf-8").lstrip()[:1] != "["
            frame = pd.read_json(path, dtype=False, lines=lines).astype(str)
        else:
            raise SourceFileInvalid(data={"file": path.name, "reason": "unsupported format"})
    except (OSError, ValueError) as exc:
        raise SourceFileInvalid(data={"file": path.name, "reason": str(exc)[:200]}) from exc
    frame = frame.replace({"None": "", "nan": "", "NaT": "", "<NA>": ""})
    return [{str(k): str(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _checksum(rows: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def do_ingest_file(path: Path | str, *, source: str) -> IngestResult:
    path = Path(path)
    return do_ingest_rows(source, read_file(path), file_name=path.name)


def do_ingest_rows(
    source: str,
    rows: list[dict[str, Any]],
    *,
    file_name: str = "",
    identity_ids: Mapping[str, uuid.UUID] | None = None,
) -> IngestResult:
    """Store one batch of rows of a declared source (one transaction)."""
    spec = get_source(source)
    checksum = _checksum(rows)
    with transaction.atomic():
        if SourceBatch.objects.filter(source=source, checksum=checksum).exists():
            return IngestResult(None, source, len(rows), 0, 0, 0, duplicate_batch=True)
        now = clock.now()
        batch = SourceBatch.objects.create(
            source=source,
            kind=spec.kind.value,
            file_name=file_name,
            checksum=checksum,
            row_count=len(rows),
            received_at=now,
        )
        existing = {
            r.record_key: r
            for r in SourceRecord.objects.filter(source=source).only(
                "pk", "record_key", "content_hash", "scored_version"
            )
        }
        new: list[SourceRecord] = []
        changed: list[SourceRecord] = []
        mapped_rows = []
        for row in rows:
            mapped = {f: (row.get(spec.mapping.get(f, f)) or "").strip() for f in FIELDS}
            mapped_rows.append(mapped)
        standardised = standardise_records(mapped_rows)
        for index, (mapped, std) in enumerate(zip(mapped_rows, standardised, strict=True)):
            key = mapped.pop("record_id") or f"{batch.public_id}-{index}"
            raw = {k: v for k, v in mapped.items() if v}
            content = hashlib.sha256(
                json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()
            ).hexdigest()
            ident = (identity_ids or {}).get(key)
            current = existing.get(key)
            if current is not None:
                if current.content_hash == content:
                    continue
                current.raw, current.std = raw, std
                current.content_hash, current.batch, current.received_at = content, batch, now
                current.scored_version = ""  # re-scored by the next run
                changed.append(current)
                continue
            record = SourceRecord(
                source=source,
                kind=spec.kind.value,
                record_key=key,
                batch=batch,
                raw=raw,
                std=std,
                content_hash=content,
                identity_customer_id=ident,
                received_at=now,
            )
            existing[key] = record
            new.append(record)
        SourceRecord.objects.bulk_create(new, batch_size=1000)
        SourceRecord.objects.bulk_update(
            changed,
            ["raw", "std", "content_hash", "batch", "received_at", "scored_version"],
            batch_size=1000,
        )
        MatchLink.objects.filter(
            Q(record_a__in=[c.pk for c in changed]) | Q(record_b__in=[c.pk for c in changed])
        ).delete()
        batch.new_count = len(new)
        batch.save(update_fields=["new_count"])
    return IngestResult(batch.public_id, source, len(rows), len(new), len(changed), 0, False)


def do_ingest_internal(principal: Principal, customer_ids: Iterable[uuid.UUID]) -> IngestResult:
    """The bank's own customers, read through identity (each read is audited there)."""
    rows = []
    idents: dict[str, uuid.UUID] = {}
    for customer_id in customer_ids:
        profile = access_customer(principal, customer_id)
        key = str(profile.customer_id)
        idents[key] = profile.customer_id
        rows.append(
            {
                "record_id": key,
                "name": profile.real_name,
                "resident_id": profile.resident_id,
                "phone": profile.phone,
                "province_code": profile.region_code,
            }
        )
    return do_ingest_rows("identity", rows, file_name="identity", identity_ids=idents)


# ------------------------------------------------------------------ resolve


def _read_records() -> tuple[Any, list[str]]:
    """Every record's matching columns as one frame (``unique_id`` = pk) plus its
    ``scored_version``; streamed in chunks, only the needed values kept (no ORM objects)."""
    import pandas as pd

    from rongshu.customers.standardise import MATCH_COLUMNS

    wanted = (*MATCH_COLUMNS, "resident_id_valid")
    data: dict[str, list[Any]] = {"unique_id": [], **{c: [] for c in wanted}}
    versions: list[str] = []
    rows = SourceRecord.objects.order_by("pk").values_list("pk", "std", "scored_version")
    for pk, std, version in rows.iterator(chunk_size=5000):
        data["unique_id"].append(str(pk))
        for column in wanted:
            data[column].append(std.get(column))
        versions.append(version)
    frame = pd.DataFrame(data, columns=["unique_id", *wanted])
    frame["resident_id_valid"] = frame["resident_id_valid"].fillna(False).astype(bool)
    return frame, versions


def _match_frame(frame: Any) -> Any:
    data = frame[["unique_id", *MATCH_COLUMNS]]
    return data.astype(object).where(data.notna(), None)


def _active_model() -> MatchModel | None:
    return MatchModel.objects.filter(active=True).order_by("-created_at", "-pk").first()


def _settings_for(model: MatchModel | None, engine: er.Engine) -> tuple[dict[str, Any], str | None]:
    settings = er.customer_settings("dedupe_only", engine)
    model_json = model.model_json if model is not None and model.engine == engine else None
    if model is not None and model_json is None:
        # The same trained parameters on another engine: swap in that engine's SQL dialect.
        trained = json.loads(model.model_json)
        settings["comparisons"] = _retarget(trained["comparisons"], settings["comparisons"])
        settings["probability_two_random_records_match"] = trained[
            "probability_two_random_records_match"
        ]
        model_json = json.dumps(settings)
    return settings, model_json


def _score(frame: Any, engine: er.Engine, retrain: bool, say: Progress) -> tuple[Any, str]:
    """Score every record (first run, ``retrain``, or another engine); saves a new model."""
    model = None if retrain else _active_model()
    settings, model_json = _settings_for(model, engine)
    scored = er.score(
        [_match_frame(frame)],
        settings,
        er.CUSTOMER_EM_RULES,
        engine=engine,
        model_json=model_json,
        progress=say,
        max_pairs=min(1e6, max(1e4, min(len(frame), 120_000) * 50.0)),
        train_sample=120_000,
    )
    if model is None or model.version != scored.version:
        known = MatchModel.objects.filter(version=scored.version).first()
        if known is None and model is None:
            MatchModel.objects.update(active=False)
            MatchModel.objects.create(
                version=scored.version,
                model_json=scored.model_json,
                engine=engine,
                record_count=len(frame),
                active=True,
                created_at=clock.now(),
            )
    return scored.pairs, (model.version if model is not None else scored.version)


def _keep_links(pairs: Any, version: str) -> None:
    accepted = pairs[pairs["match_probability"] >= er.AUTO_LINK]
    links = []
    for left, right, weight in zip(
        accepted["unique_id_l"], accepted["unique_id_r"], accepted["match_weight"], strict=True
    ):
        a, b = sorted((int(left), int(right)))
        links.append(
            MatchLink(
                record_a_id=a, record_b_id=b, match_weight=float(weight), model_version=version
            )
        )
    MatchLink.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)


def _retarget(trained: list[dict[str, Any]], target: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy m and u of each trained comparison level onto another dialect's levels."""
    out = []
    for t_comp, comp in zip(trained, target, strict=True):
        levels = []
        for t_level, level in zip(
            t_comp["comparison_levels"], comp["comparison_levels"], strict=True
        ):
            merged = dict(level)
            for key in ("m_probability", "u_probability"):
                if key in t_level:
                    merged[key] = t_level[key]
            levels.append(merged)
        out.append({**comp, "comparison_levels": levels})
    return out


def _consenting(records: list[SourceRecord]) -> set[uuid.UUID]:
    idents = {r.identity_customer_id for r in records if r.identity_customer_id}
    return {i for i in idents if has_consent(i, ConsentPurpose.THIRD_PARTY_SHARING.value)}


def _rank(record: SourceRecord) -> tuple[int, float, str]:
    priority = SOURCES[record.source].priority if record.source in SOURCES else 9
    return (priority, -record.received_at.timestamp(), record.record_key)


def golden_of(records: list[SourceRecord]) -> dict[str, dict[str, str]]:
    """Survivorship per attribute: valid values first, then source priority, then recency."""
    golden: dict[str, dict[str, str]] = {}
    ordered = sorted(records, key=_rank)
    for name in GOLDEN_FIELDS:
        candidates = [r for r in ordered if r.std.get(name)]
        if name == "resident_id":
            candidates.sort(key=lambda r: not r.std.get("resident_id_valid"))
        if not candidates:
            continue
        best = candidates[0]
        golden[name] = {
            "value": str(best.std[name]),
            "source": best.source,
            "record_id": str(best.public_id),
            "batch_id": str(best.batch.public_id),
            "received_at": best.received_at.isoformat(),
        }
    return golden


def quality_of(records: list[SourceRecord], today: dt.date) -> tuple[int, list[str]]:
    """A 0–100 score and the issues behind it."""
    issues: list[str] = []
    if any(r.std.get("resident_id") and not r.std.get("resident_id_valid") for r in records):
        issues.append("invalid_resident_id")
    for name in ("resident_id", "birth_on", "gender"):
        values = {r.std.get(name) for r in records if r.std.get(name)}
        if name == "resident_id":
            values = {r.std["resident_id"] for r in records if r.std.get("resident_id_valid")}
        if len(values) > 1:
            issues.append(f"conflicting_{name}")
    phones = [r for r in records if r.std.get("phone")]
    if not phones:
        issues.append("missing_phone")
    elif max(r.received_at for r in phones).date() < today - STALE_AFTER:
        issues.append("stale_contact")
    return max(0, 100 - 20 * len(issues)), issues


def do_resolve(
    *,
    engine: er.Engine = "duckdb",
    retrain: bool = False,
    progress: Progress | None = None,
) -> ResolveResult:
    """Resolve source records to customers (one transaction for the write-back).

    The first run (or ``retrain``, or another engine) trains and scores every record. Later
    runs are incremental: only records not yet scored by the active model (new or changed)
    are scored, against the blocking candidates among the others; links already accepted
    are kept (:class:`MatchLink`), and only clusters whose membership changed are rewritten.
    Records are read and written in bulk (``values_list``, ``bulk_create``, ``update``).
    """
    import pandas as pd

    say = progress or (lambda _m: None)
    started = time.perf_counter()
    started_at = clock.now()
    frame, versions = _read_records()
    ids: list[str] = frame["unique_id"].tolist()
    say(f"{len(ids)} source records")
    model = None if retrain else _active_model()
    full = model is None or model.engine != engine
    pairs = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability"])
    current = model.version if model is not None else ""
    is_fresh = [full or v != current for v in versions]
    fresh = {int(uid) for uid, f in zip(ids, is_fresh, strict=True) if f}
    version = current
    if full and len(ids) >= 2:
        pairs, version = _score(frame, engine, retrain, say)
        MatchLink.objects.all().delete()
        _keep_links(pairs, version)
    elif fresh and model is not None:
        mask = pd.Series(is_fresh, index=frame.index)
        old, new = _match_frame(frame[~mask]), _match_frame(frame[mask])
        scored = er.score_new(old, new, model.model_json, progress=say)
        pairs = scored.pairs
        _keep_links(pairs, version)
    if version:
        for chunk in _chunks(sorted(fresh), 5000):
            SourceRecord.objects.filter(pk__in=chunk).update(scored_version=version)
    say("clustering")
    decisions = list(ReviewPair.objects.exclude(state=ReviewPair.PENDING))
    forced = [
        (str(d.record_a_id), str(d.record_b_id)) for d in decisions if d.state == ReviewPair.MERGE
    ]
    forbidden = [
        (str(d.record_a_id), str(d.record_b_id)) for d in decisions if d.state == ReviewPair.SPLIT
    ]
    id_links, exclusive = pipeline.id_edges(frame)
    del frame
    links = pd.DataFrame(
        list(MatchLink.objects.values_list("record_a_id", "record_b_id", "match_weight")),
        columns=["unique_id_l", "unique_id_r", "match_weight"],
    ).astype({"unique_id_l": str, "unique_id_r": str})
    links["match_probability"] = 1.0
    assignment = pipeline.cluster(
        ids,
        links,
        id_links,
        exclusive,
        forced=forced,
        forbidden=forbidden,
    )
    uncertain = [
        (left, right, float(prob))
        for left, right, prob in zip(
            pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_probability"], strict=True
        )
        if prob < er.AUTO_LINK
    ]
    uncertain.sort(key=lambda t: (-t[2], t[0], t[1]))
    touched = _touched_roots(assignment, fresh, full)
    say(f"{len(touched)} clusters to write")
    members = [int(pk) for pk, root in assignment.items() if root in touched]
    by_pk: dict[int, SourceRecord] = {}
    for chunk in _chunks(members, 5000):
        by_pk.update(SourceRecord.objects.select_related("batch").in_bulk(chunk))
    groups: dict[str, list[SourceRecord]] = defaultdict(list)
    for pk in sorted(by_pk):
        groups[assignment[str(pk)]].append(by_pk[pk])
    with transaction.atomic():
        result = _write_back(groups, uncertain, assignment, version, engine, started_at, say)
    result["records"] = len(ids)
    return ResolveResult(**result, seconds=time.perf_counter() - started)


def _bulk_set(model: Any, objects: list[Any], fields: list[str]) -> None:
    """``UPDATE … SET … WHERE pk = %s`` with ``executemany`` in chunks: Django's
    ``bulk_update`` builds a CASE expression per row, which dominated large runs. Values are
    prepared by each field (JSON, time zones, foreign keys), so any backend accepts them."""
    from django.db import connection

    if not objects:
        return
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(c.column)} = %s" for c in columns)
    # identifiers come from the model's own metadata (quoted); values are parameters
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    params = [
        [c.get_db_prep_save(getattr(o, c.attname), connection) for c in columns] + [o.pk]
        for o in objects
    ]
    with connection.cursor() as cursor:
        for i in range(0, len(params), 2000):
            cursor.executemany(sql, params[i : i + 2000])


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _touched_roots(assignment: dict[str, str], fresh: set[int], full: bool) -> set[str]:
    """Clusters to rewrite: all on a full run; otherwise those holding a freshly scored
    record, or whose records do not all belong to one customer that has no records elsewhere
    (merges, splits, human decisions)."""
    if full:
        return set(assignment.values())
    owner = dict(SourceRecord.objects.values_list("pk", "customer_id"))
    touched = {assignment[str(pk)] for pk in fresh}
    roots_of: dict[int | None, set[str]] = defaultdict(set)
    owners_of: dict[str, set[int | None]] = defaultdict(set)
    for pk, root in assignment.items():
        cid = owner.get(int(pk))
        roots_of[cid].add(root)
        owners_of[root].add(cid)
    for root, cids in owners_of.items():
        if len(cids) != 1 or None in cids or len(roots_of[next(iter(cids))]) != 1:
            touched.add(root)
    # a customer whose records left it must be reconsidered wherever it still has records
    for cid, roots in roots_of.items():
        if cid is not None and roots & touched:
            touched |= roots
    return touched


def _write_back(
    groups: dict[str, list[SourceRecord]],
    uncertain: list[tuple[str, str, float]],
    assignment: dict[str, str],
    version: str,
    engine: str,
    started_at: dt.datetime,
    say: Progress,
) -> dict[str, Any]:
    now = clock.now()
    today = clock.get_business_date()
    run = ResolutionRun(
        engine=engine,
        model_version=version,
        started_at=started_at,
        finished_at=now,
        record_count=0,
        customer_count=0,
    )
    # Which records each cluster may use: third-party rows need a consenting bank customer.
    usable: dict[str, list[SourceRecord]] = {}
    for root, members in groups.items():
        consenting = _consenting(members)
        usable[root] = [r for r in members if r.kind != SourceKind.THIRD_PARTY or bool(consenting)]
    old_owner = {r.pk: r.customer_id for ms in usable.values() for r in ms if r.customer_id}
    # Each old customer's home cluster: where most of its records now are.
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for root, members in usable.items():
        for r in members:
            if r.pk in old_owner:
                counts[old_owner[r.pk]][root] += 1
    home: dict[int, str] = {
        cid: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for cid, c in counts.items()
    }
    homes: dict[str, list[int]] = defaultdict(list)
    for cid, root in home.items():
        homes[root].append(cid)
    customers = Customer.objects.in_bulk(list(home))
    created = merged = split = updated = 0
    split_children: dict[int, list[str]] = defaultdict(list)
    run.save()
    # New customers in one bulk insert; survivors and record owners written in bulk below.
    fresh_roots = [root for root, ms in usable.items() if ms and not homes.get(root)]
    born = Customer.objects.bulk_create(
        [Customer(created_at=now, updated_at=now) for _ in fresh_roots], batch_size=1000
    )
    newborn = dict(zip(fresh_roots, born, strict=True))
    to_update: list[Customer] = []
    moved: list[SourceRecord] = []
    for root in sorted(usable, key=lambda k: int(k)):
        members = usable[root]
        if not members:
            continue
        owners = sorted(
            (customers[c] for c in homes.get(root, [])), key=lambda c: (c.created_at, c.pk)
        )
        if owners:
            survivor = owners[0]
            absorbed = owners[1:]
            if absorbed:
                for other in absorbed:
                    other.status = Customer.MERGED
                    other.merged_into = survivor
                    other.golden = {}
                    other.updated_at = now
                    other.save(update_fields=["status", "merged_into", "golden", "updated_at"])
                Customer.objects.filter(merged_into__in=absorbed).update(merged_into=survivor)
                merged += len(absorbed)
                record_event(
                    CustomersMerged(
                        str(survivor.public_id),
                        [str(o.public_id) for o in absorbed],
                        str(run.public_id),
                    )
                )
        else:
            survivor = newborn[root]
            created += 1
            origins = {old_owner[r.pk] for r in members if r.pk in old_owner}
            for origin in sorted(origins):
                split_children[origin].append(str(survivor.public_id))
        golden = golden_of(members)
        score, issues = quality_of(members, today)
        identity = next(
            (r.identity_customer_id for r in sorted(members, key=_rank) if r.identity_customer_id),
            None,
        )
        display = golden.get("name", {}).get("value", "")
        if (
            survivor.golden,
            survivor.quality_score,
            survivor.quality_issues,
            survivor.identity_customer_id,
            survivor.display_name,
            survivor.status,
        ) != (golden, score, issues, identity, display, Customer.ACTIVE):
            survivor.golden, survivor.quality_score, survivor.quality_issues = golden, score, issues
            survivor.identity_customer_id, survivor.display_name = identity, display
            survivor.status, survivor.merged_into = Customer.ACTIVE, None
            survivor.updated_at = now
            to_update.append(survivor)
            updated += 1
        for r in members:
            if r.customer_id != survivor.pk:
                r.customer = survivor
                moved.append(r)
    _bulk_set(
        Customer,
        to_update,
        [
            "golden",
            "quality_score",
            "quality_issues",
            "identity_customer_id",
            "display_name",
            "status",
            "merged_into",
            "updated_at",
        ],
    )
    _bulk_set(SourceRecord, moved, ["customer"])
    # Records held back (no consent) belong to no customer.
    held = [
        r.pk for root, ms in groups.items() for r in ms if r not in usable[root] and r.customer_id
    ]
    if held:
        SourceRecord.objects.filter(pk__in=held).update(customer=None)
    for origin, children in split_children.items():
        split += len(children)
        parent = Customer.objects.get(pk=origin)
        record_event(CustomerSplit(str(parent.public_id), children, str(run.public_id)))
    pending = _queue_reviews(uncertain, assignment, version, now)
    say(f"created {created}, merged {merged}, split {split}, updated {updated}, review {pending}")
    run.record_count = len(assignment)
    run.customer_count = Customer.objects.filter(status=Customer.ACTIVE).count()
    run.created, run.merged, run.split, run.updated, run.review_pending = (
        created,
        merged,
        split,
        updated,
        pending,
    )
    run.finished_at = clock.now()
    run.save()
    return {
        "run_id": run.public_id,
        "engine": engine,
        "model_version": version,
        "records": run.record_count,
        "customers": run.customer_count,
        "created": created,
        "merged": merged,
        "split": split,
        "updated": updated,
        "review_pending": pending,
    }


def _queue_reviews(
    uncertain: list[tuple[str, str, float]],
    assignment: dict[str, str],
    version: str,
    now: dt.datetime,
) -> int:
    known = {
        (p.record_a_id, p.record_b_id)
        for p in ReviewPair.objects.only("record_a_id", "record_b_id")
    }
    fresh = []
    for left, right, prob in uncertain:
        if assignment[left] == assignment[right]:
            continue  # already linked through other evidence
        a, b = sorted((int(left), int(right)))
        if (a, b) in known:
            continue
        known.add((a, b))
        fresh.append(
            ReviewPair(
                record_a_id=a,
                record_b_id=b,
                match_probability=prob,
                model_version=version,
                created_at=now,
            )
        )
    ReviewPair.objects.bulk_create(fresh)
    return ReviewPair.objects.filter(state=ReviewPair.PENDING).count()


# ------------------------------------------------------------------ review


def do_decide_review(
    principal: Principal, pair_id: uuid.UUID | str, decision: str, *, resolve: bool = True
) -> ReviewPair:
    """Record ``merge`` or ``split`` for a pair (kept and reused), then re-resolve."""
    if decision not in {ReviewPair.MERGE, ReviewPair.SPLIT}:
        raise InvalidInput(data={"decision": decision})
    with transaction.atomic():
        pair = ReviewPair.objects.select_for_update().filter(public_id=pair_id).first()
        if pair is None:
            raise ReviewPairNotFound()
        if pair.state != ReviewPair.PENDING:
            raise ReviewAlreadyDecided()
        pair.state = decision
        pair.decided_by = principal.principal_key
        pair.decided_at = clock.now()
        pair.save(update_fields=["state", "decided_by", "decided_at"])
        do_audit(
            principal.principal_key,
            "customers.review_decided",
            object_type="review_pair",
            object_id=str(pair.public_id),
            data={"decision": decision, "probability": pair.match_probability},
        )
    if resolve:
        do_resolve()
    return pair


# ------------------------------------------------------------------ data quality


def do_check_quality(business_date: dt.date) -> dict[str, Any]:
    """Re-score every active customer and store the day's metrics (idempotent per date)."""
    from django.db.models import Avg

    from rongshu.customers.models import QualityRun

    with transaction.atomic():
        issues: Counter[str] = Counter()
        for customer in Customer.objects.filter(status=Customer.ACTIVE).prefetch_related("records"):
            score, found = quality_of(list(customer.records.all()), business_date)
            issues.update(found)
            if (score, found) != (customer.quality_score, customer.quality_issues):
                customer.quality_score, customer.quality_issues = score, found
                customer.save(update_fields=["quality_score", "quality_issues"])
        yesterday = business_date - dt.timedelta(days=1)
        average = Customer.objects.filter(status=Customer.ACTIVE).aggregate(a=Avg("quality_score"))[
            "a"
        ]
        metrics: dict[str, Any] = {
            "customers": Customer.objects.filter(status=Customer.ACTIVE).count(),
            "source_records": SourceRecord.objects.count(),
            "invalid_ids": sum(
                1
                for std in SourceRecord.objects.values_list("std", flat=True)
                if std.get("resident_id") and not std.get("resident_id_valid")
            ),
            "new_duplicates": ReviewPair.objects.filter(
                state=ReviewPair.PENDING, created_at__date__gt=yesterday
            ).count(),
            "pending_review": ReviewPair.objects.filter(state=ReviewPair.PENDING).count(),
            "stale_contacts": issues["stale_contact"],
            "conflicting_attributes": sum(
                v for k, v in issues.items() if k.startswith("conflicting_")
            ),
            "average_score": round(float(average or 0), 1),
        }
        QualityRun.objects.update_or_create(
            business_date=business_date, defaults={"metrics": metrics, "created_at": clock.now()}
        )
    return metrics


def do_record_decision(
    principal: Principal,
    record_a: uuid.UUID | str,
    record_b: uuid.UUID | str,
    decision: str,
    *,
    resolve: bool = True,
) -> ReviewPair:
    """A staff decision on two source records outside the queue (split a customer from its
    360° view, or join two records); kept as a decided review pair and reused by every run."""
    records = {
        str(r.public_id): r
        for r in SourceRecord.objects.filter(public_id__in=[str(record_a), str(record_b)])
    }
    if len(records) != 2:
        raise ReviewPairNotFound()
    a, b = sorted(records.values(), key=lambda r: r.pk)
    pair, _ = ReviewPair.objects.get_or_create(
        record_a=a,
        record_b=b,
        defaults={"match_probability": 0.0, "model_version": "", "created_at": clock.now()},
    )
    if pair.state != ReviewPair.PENDING:
        ReviewPair.objects.filter(pk=pair.pk).update(state=ReviewPair.PENDING)
    return do_decide_review(principal, pair.public_id, decision, resolve=resolve)
