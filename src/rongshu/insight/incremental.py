# ruff: noqa: S608 - a SQL compiler over the shipped library (see rongshu.insight.engine).
"""The incremental daily build: per-customer per-day partial aggregates kept in a DuckDB file.

The windowed indicators over ``transactions`` and ``events`` are aggregates over the rows of
a window ``(add_months(as_of, -w), as_of]``. Each aggregate is split (with SQLGlot) into a
*partial* computed once per customer and booking day, and a *merge* over the days of the
window:

========================  ===============================  ==================================
aggregate                 partial per (customer, day)      merge over the window's days
========================  ===============================  ==================================
``SUM(x)``                ``SUM(x)``                       ``SUM(p)``
``COUNT(*)``/``COUNT(x)`` ``COUNT(...)``                   ``SUM(p)``
``MAX(x)``/``MIN(x)``     ``MAX(x)``/``MIN(x)``            ``MAX(p)``/``MIN(p)``
``COUNT(DISTINCT x)``,    ``MAX(x)`` (one value a day)     ``COUNT(DISTINCT p)``
x a function of the day
(months, days active)
``COUNT(DISTINCT x)``,    ``LIST(DISTINCT x)`` (the day's  ``list_unique(flatten(LIST(p)))``
any other x (channels,    set)
countries, counterparties)
========================  ===============================  ==================================

Everything outside the aggregates (``CAST(ROUND(SUM(..) / 6.0) AS BIGINT)``,
``DATE_DIFF('day', MAX("date"), {as_of})``) stays in the indicator and is evaluated over the
merged values, so an as-of date inside an indicator costs nothing. An aggregate whose argument
reads the as-of date, or another aggregate function, cannot be split: the build says so
(``IncrementalUnsupported``) and the caller runs the full build.

State (``<state dir>/insight.duckdb``): ``st_part_<source>`` (the partials of every customer
and day in the longest window, a compacted copy of the lake), ``st_agg_<source>_<w>`` (the
merged aggregates of each consenting customer with rows in the window), ``st_profile``,
``st_segments``, ``st_stages`` and ``st_meta`` (as-of date, plan signature, the manifest of
the day partitions read). A daily run:

1. lists the lake's day partitions up to the new as-of date and compares them with the
   manifest: new days, and days whose files changed (a re-export), get their partials
   (re)computed from those files only;
2. *affected* customers: rows on a new or changed day, rows on a day that left one of the
   windows (``(add_months(old, -w), add_months(new, -w)]``), customers whose consent was newly
   given; only their ``st_agg_*`` rows are recomputed, from the partials (never from raw
   transactions); customers who withdrew consent are dropped;
3. the profile is assembled for every consenting customer from the merged aggregates plus the
   small sources read whole (``customers``, ``accounts``, the month-end ``balances`` snapshot)
   — age, tenure, days since the last transaction and account ages move with the date for
   everybody;
4. segments and stages are re-evaluated only for customers whose profile row changed (or for
   everybody when the segment plan changed); membership and stage changes are emitted.

``tests/insight/test_incremental.py`` proves equality with the full build, value by value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from rongshu.insight import engine as engines
from rongshu.insight.library.indicators import INDICATORS, Indicator
from rongshu.insight.library.segments import SEGMENTS, Segment

DAILY_SOURCES = ("transactions", "events")
AS_OF = "__as_of__"
STATE_FILE = "insight.duckdb"
BYTES_PER_PASS = 512 * 2**20  # Parquet bytes of day partitions per partial pass
ROWS_PER_PASS = 8_000_000  # partial rows per merge pass (customers split by hash)
Progress = Callable[[str], None]


class IncrementalUnsupported(Exception):
    """An indicator's aggregate cannot be split into per-day partials."""


@dataclass(frozen=True)
class Split:
    """The library with every daily-source indicator rewritten over merged aggregates."""

    partials: dict[str, list[str]]  # source -> partial expressions; column p<k> is the k-th
    merges: dict[tuple[str, int], dict[str, str]]  # (source, window) -> column -> merge expr
    indicators: list[Indicator]  # the library, daily-source sql rewritten over m<k> columns
    windows: dict[str, tuple[int, ...]]  # source -> windows in months


def _day_constant(node: Any) -> bool:
    """At most one non-null value per customer and day: only the day inside, or CASE WHEN
    <anything> THEN <only the day> END."""
    from sqlglot import exp

    def only_day(n: Any) -> bool:
        return all(c.name == "date" for c in n.find_all(exp.Column))

    if only_day(node):
        return True
    if isinstance(node, exp.Case):
        default = node.args.get("default")
        return (default is None or isinstance(default, exp.Null)) and all(
            only_day(branch.args["true"]) for branch in node.args.get("ifs", [])
        )
    return False


def split_library(indicators: Sequence[Indicator] = INDICATORS) -> Split:
    import sqlglot
    from sqlglot import exp

    partials: dict[str, list[str]] = {s: [] for s in DAILY_SOURCES}
    merges: dict[tuple[str, int], dict[str, str]] = {}
    windows: dict[str, set[int]] = {s: set() for s in DAILY_SOURCES}
    out: list[Indicator] = []
    for ind in indicators:
        source = ind["source"]
        if source not in DAILY_SOURCES:
            out.append(ind)
            continue
        window = int(ind["window"])
        windows[source].add(window)
        group = merges.setdefault((source, window), {})
        tree = sqlglot.parse_one(str(ind["sql"]).replace("{as_of}", AS_OF), read="duckdb")

        def column(partial: str, merge: str, src: str = source, grp: dict[str, str] = group) -> Any:
            if partial not in partials[src]:
                partials[src].append(partial)
            k = partials[src].index(partial)
            name = f"m{k}_{hashlib.sha256(merge.encode()).hexdigest()[:6]}"
            grp[name] = merge.format(p=f"p{k}")
            return exp.column(name)

        def rewrite(node: Any, ind_id: str = str(ind["id"])) -> Any:
            if not isinstance(node, exp.AggFunc):
                return node
            if any(c.name == AS_OF for c in node.find_all(exp.Column)):
                raise IncrementalUnsupported(f"{ind_id}: the as-of date inside an aggregate")
            inner = node.this
            if isinstance(node, exp.Count):
                if isinstance(inner, exp.Distinct):
                    arg = inner.expressions[0]
                    x = arg.sql(dialect="duckdb")
                    if _day_constant(arg):
                        return column(f"MAX({x})", "COUNT(DISTINCT {p})")
                    return column(
                        f"LIST(DISTINCT {x}) FILTER (WHERE ({x}) IS NOT NULL)",
                        "COALESCE(list_unique(flatten(LIST({p}))), 0)",
                    )
                return column(node.sql(dialect="duckdb"), "CAST(SUM({p}) AS BIGINT)")
            if type(node) in (exp.Sum, exp.Max, exp.Min) and not list(inner.find_all(exp.AggFunc)):
                fn = {exp.Sum: "SUM", exp.Max: "MAX", exp.Min: "MIN"}[type(node)]
                return column(node.sql(dialect="duckdb"), fn + "({p})")
            raise IncrementalUnsupported(f"{ind_id}: {node.sql(dialect='duckdb')}")

        rewritten = tree.transform(rewrite).sql(dialect="duckdb").replace(AS_OF, "{as_of}")
        out.append({**ind, "sql": rewritten})
    return Split(
        partials=partials,
        merges=merges,
        indicators=out,
        windows={s: tuple(sorted(w)) for s, w in windows.items()},
    )


def _signature(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _manifest(lake: Path, source: str, as_of: dt.date, since: dt.date) -> dict[str, list[Any]]:
    """Day partitions in (since, as_of]: date -> [[file, size, mtime_ns], ...]."""
    out: dict[str, list[Any]] = {}
    folder = lake / source
    if not folder.exists():
        return out
    for day_dir in sorted(folder.glob("date=*")):
        try:
            day = dt.date.fromisoformat(day_dir.name[5:])
        except ValueError:
            continue
        if not since < day <= as_of:
            continue
        files = sorted(day_dir.glob("*.parquet"))
        if files:
            out[day.isoformat()] = [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    return out


def _lit(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


class IncrementalBuild:
    """Owns the state file; ``run(as_of)`` brings it to ``as_of`` (full on first use)."""

    def __init__(
        self,
        lake: Path,
        state_dir: Path,
        *,
        extra_segments: Sequence[Segment] = (),
        threads: int | None = None,
        memory_limit: str = "",
    ) -> None:
        self.lake = lake
        self.state_dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.split = split_library()
        self.segments = [*SEGMENTS, *extra_segments]
        self.eng = engines.DuckDBEngine(
            lake, threads=threads, memory_limit=memory_limit, database=state_dir / STATE_FILE
        )
        self.con = self.eng.con
        self.max_window = max(max(w) for w in self.split.windows.values() if w)

    def close(self) -> None:
        self.eng.close()

    # -------------------------------------------------------------- state
    def _meta(self) -> dict[str, Any] | None:
        if not self._scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'st_meta'"
        ):
            return None
        body = self._scalar("SELECT body FROM st_meta")
        return dict(json.loads(body)) if body else None

    def _scalar(self, sql: str) -> Any:
        rows = self.con.execute(sql).fetchall()
        return rows[0][0] if rows else None

    def _save_meta(self, meta: dict[str, Any]) -> None:
        self.con.execute("CREATE OR REPLACE TABLE st_meta (body VARCHAR)")
        self.con.execute("INSERT INTO st_meta VALUES (?)", [json.dumps(meta, sort_keys=True)])

    def _plan_signature(self) -> dict[str, str]:
        return {
            "indicators": _signature(
                self.split.partials,
                sorted((f"{s}:{w}", m) for (s, w), m in self.split.merges.items()),
            ),
            "segments": _signature(
                engines.compile_segments(self.segments), engines.compile_stages()
            ),
        }

    # -------------------------------------------------------------- partials
    def _partials_from(self, source: str, days: dict[str, list[Any]]) -> None:
        """(Re)compute the partials of ``days`` (date -> files) from those files only."""
        if not days:
            return
        exprs = self.split.partials[source]
        cols = "".join(f", {e} AS p{k}" for k, e in enumerate(exprs))
        dates = ", ".join(_lit(dt.date.fromisoformat(d)) for d in days)
        self.con.execute(f'DELETE FROM st_part_{source} WHERE "date" IN ({dates})')
        passes: list[list[str]] = [[]]
        size = 0
        for day, entries in sorted(days.items()):  # bounded hash tables: ~BYTES_PER_PASS
            day_size = sum(int(e[1]) for e in entries)
            if passes[-1] and size + day_size > BYTES_PER_PASS:
                passes.append([])
                size = 0
            size += day_size
            passes[-1] += [str(self.lake / source / f"date={day}" / e[0]) for e in entries]
        for files in passes:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            self.con.execute(
                f'INSERT INTO st_part_{source} SELECT customer_id, "date"{cols} FROM '
                f"read_parquet([{listing}], hive_partitioning = true, "
                "hive_types = {'date': DATE}) GROUP BY customer_id, \"date\""
            )

    def _create_partials(self, source: str) -> None:
        exprs = self.split.partials[source]
        cols = "".join(f", {e} AS p{k}" for k, e in enumerate(exprs))
        self.con.execute(
            f"CREATE OR REPLACE TABLE st_part_{source} AS SELECT customer_id, "
            f'"date"{cols} FROM {source} WHERE FALSE GROUP BY customer_id, "date"'
        )

    def _merge(self, source: str, window: int, as_of: dt.date, only_affected: bool) -> None:
        merges = self.split.merges.get((source, window), {})
        cols = "".join(f", {m} AS {name}" for name, m in merges.items())
        lo = engines.add_months(as_of, -window)
        table = f"st_agg_{source}_{window}"
        scope = "st_affected" if only_affected else "st_consent"
        where = (
            f'WHERE "date" > {_lit(lo)} AND "date" <= {_lit(as_of)} AND customer_id IN '
            f"(SELECT customer_id FROM {scope})"
        )
        rows = int(self._scalar(f"SELECT count(*) FROM st_part_{source} {where}") or 0)
        buckets = max(1, -(-rows // ROWS_PER_PASS))  # by customer hash: bounded hash tables
        if only_affected:
            self.con.execute(
                f"DELETE FROM {table} WHERE customer_id IN (SELECT customer_id FROM st_affected) "
                "OR customer_id NOT IN (SELECT customer_id FROM st_consent)"
            )
        else:
            self.con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT customer_id{cols} "
                f"FROM st_part_{source} WHERE FALSE GROUP BY customer_id"
            )
        for bucket in range(buckets):
            part = f" AND hash(customer_id) % {buckets} = {bucket}" if buckets > 1 else ""
            self.con.execute(
                f"INSERT INTO {table} SELECT customer_id{cols} FROM st_part_{source} "
                f"{where}{part} GROUP BY customer_id"
            )

    # -------------------------------------------------------------- run
    def run(self, as_of: dt.date, progress: Progress | None = None) -> engines.Results:
        say = progress or (lambda _m: None)
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        meta = self._meta()
        plan = self._plan_signature()
        since = engines.add_months(as_of, -self.max_window)
        manifests = {s: _manifest(self.lake, s, as_of, since) for s in DAILY_SOURCES}
        full = (
            meta is None
            or meta["plan"]["indicators"] != plan["indicators"]
            or dt.date.fromisoformat(meta["as_of"]) > as_of
        )
        old_as_of = as_of if full or meta is None else dt.date.fromisoformat(meta["as_of"])
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE st_consent AS SELECT DISTINCT customer_id "
            "FROM customers WHERE profiling_consent"
        )
        stats: dict[str, Any] = {"mode": "full" if full else "incremental"}
        say("partials")
        if full:
            for source in DAILY_SOURCES:
                self._create_partials(source)
                self._partials_from(source, manifests[source])
        else:
            assert meta is not None
            affected_days: dict[str, set[str]] = {}
            for source in DAILY_SOURCES:
                old = meta["manifest"][source]
                new = manifests[source]
                changed = {d: f for d, f in new.items() if old.get(d) != f}
                removed = [d for d in old if d not in new and d > since.isoformat()]
                # customers of a changed or removed day, before its partials are replaced
                days = sorted({*changed, *removed})
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE st_touched_{source} AS SELECT DISTINCT "
                    f"customer_id FROM st_part_{source} WHERE "
                    + (
                        '"date" IN ('
                        + ", ".join(_lit(dt.date.fromisoformat(d)) for d in days)
                        + ")"
                        if days
                        else "FALSE"
                    )
                )
                if removed:
                    dates = ", ".join(_lit(dt.date.fromisoformat(d)) for d in removed)
                    self.con.execute(f'DELETE FROM st_part_{source} WHERE "date" IN ({dates})')
                self._partials_from(source, changed)
                affected_days[source] = set(changed)
                stats[f"{source}_days_read"] = len(changed)
            say("affected customers")
            parts = []
            for source in DAILY_SOURCES:
                conds = []
                if affected_days[source]:
                    conds.append(
                        '"date" IN ('
                        + ", ".join(_lit(dt.date.fromisoformat(d)) for d in affected_days[source])
                        + ")"
                    )
                for w in self.split.windows[source]:
                    lo_old = engines.add_months(old_as_of, -w)
                    lo_new = engines.add_months(as_of, -w)
                    if lo_new > lo_old:
                        conds.append(f'("date" > {_lit(lo_old)} AND "date" <= {_lit(lo_new)})')
                if conds:
                    parts.append(
                        f"SELECT customer_id FROM st_part_{source} WHERE " + " OR ".join(conds)
                    )
                parts.append(f"SELECT customer_id FROM st_touched_{source}")
            parts.append(
                "SELECT customer_id FROM (SELECT customer_id FROM st_consent "
                "EXCEPT SELECT customer_id FROM st_profile)"
            )
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE st_affected AS SELECT DISTINCT customer_id FROM ("
                + " UNION ALL ".join(parts)
                + ") WHERE customer_id IN (SELECT customer_id FROM st_consent)"
            )
            stats["affected_customers"] = int(self._scalar("SELECT count(*) FROM st_affected"))
        timings["partials_s"] = time.perf_counter() - t0
        say("merge windows")
        t1 = time.perf_counter()
        for source in DAILY_SOURCES:
            for w in self.split.windows[source]:
                self._merge(source, w, as_of, only_affected=not full)
        self.con.execute(f'DELETE FROM st_part_transactions WHERE "date" <= {_lit(since)}')
        self.con.execute(f'DELETE FROM st_part_events WHERE "date" <= {_lit(since)}')
        timings["merge_s"] = time.perf_counter() - t1
        say("indicators")
        t2 = time.perf_counter()
        relations = {
            (s, w): f"FROM st_agg_{s}_{w}" for s in DAILY_SOURCES for w in self.split.windows[s]
        }
        profile_sql = engines.compile_profile(self.split.indicators, as_of, relations)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE profile AS {profile_sql}")
        timings["indicators_s"] = time.perf_counter() - t2
        say("segments")
        t3 = time.perf_counter()
        resegment = full or meta is None or meta["plan"]["segments"] != plan["segments"]
        seg_sql = engines.compile_segments(self.segments)
        stage_sql = engines.compile_stages()
        if resegment:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE st_changed AS SELECT customer_id FROM profile"
            )
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE segments AS {seg_sql}")
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE stages AS {stage_sql}")
        else:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE st_changed AS SELECT customer_id FROM "
                "(SELECT * FROM profile EXCEPT SELECT * FROM st_profile)"
            )
            self.con.execute(
                "CREATE OR REPLACE TEMP VIEW profile_changed AS SELECT * FROM profile "
                "WHERE customer_id IN (SELECT customer_id FROM st_changed)"
            )
            keep = (
                "WHERE customer_id IN (SELECT customer_id FROM profile) "
                "AND customer_id NOT IN (SELECT customer_id FROM st_changed)"
            )
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE segments AS SELECT * FROM st_segments {keep} "
                f"UNION ALL BY NAME {engines.compile_segments(self.segments, 'profile_changed')}"
            )
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE stages AS SELECT * FROM st_stages {keep} "
                f"UNION ALL BY NAME {engines.compile_stages('profile_changed')}"
            )
        stats["changed_customers"] = int(self._scalar("SELECT count(*) FROM st_changed"))
        membership_changes, stage_changes = self._changes(meta is None)
        timings["segments_s"] = time.perf_counter() - t3
        say("collect")
        profile = self.eng.fetch("SELECT * FROM profile ORDER BY customer_id")
        segments = self.eng.fetch("SELECT * FROM segments ORDER BY customer_id")
        stages = self.eng.fetch("SELECT * FROM stages ORDER BY customer_id")
        circles = self.eng.fetch(engines.compile_circles())
        fresh: dict[str, dt.date | None] = {}
        for source in sorted(engines.PARTITIONED):
            got_d = self.eng.fetch(
                f'SELECT MAX("date") AS d FROM {source} WHERE "date" <= {_lit(as_of)}'
            )
            fresh[source] = got_d.column(0)[0].as_py()
        fresh["customers"] = fresh["accounts"] = as_of
        say("save state")
        for name in ("profile", "segments", "stages"):
            self.con.execute(f"CREATE OR REPLACE TABLE st_{name} AS SELECT * FROM {name}")
        self._save_meta({"as_of": as_of.isoformat(), "plan": plan, "manifest": manifests})
        self.con.execute("CHECKPOINT")
        timings["total_s"] = time.perf_counter() - t0
        return engines.Results(
            as_of,
            "duckdb-inc",
            profile,
            segments,
            stages,
            circles,
            timings,
            fresh,
            membership_changes=membership_changes,
            stage_changes=stage_changes,
            stats=stats,
        )

    def _changes(self, first: bool) -> tuple[pa.Table, pa.Table]:
        """Membership and stage changes of the customers whose profile changed (plus those who
        left the profile) against the saved state."""
        if first:
            empty_m = pa.table({"customer_id": [], "segment_id": [], "change": []})
            empty_s = pa.table({"customer_id": [], "from_stage": [], "to_stage": []})
            return empty_m, empty_s
        scope = (
            "customer_id IN (SELECT customer_id FROM st_changed) OR customer_id NOT IN "
            "(SELECT customer_id FROM profile)"
        )

        def members(table: str) -> str:
            return (
                f"(SELECT customer_id, segment_id FROM (UNPIVOT (SELECT * FROM {table} "
                f"WHERE {scope}) ON COLUMNS(* EXCLUDE (customer_id)) INTO NAME segment_id "
                "VALUE member) WHERE member)"
            )

        new, old = members("segments"), members("st_segments")
        membership = self.eng.fetch(
            f"SELECT customer_id, segment_id, 'entered' AS change FROM ({new} EXCEPT {old}) "
            f"UNION ALL SELECT customer_id, segment_id, 'left' AS change FROM ({old} EXCEPT {new}) "
            "ORDER BY customer_id, segment_id, change"
        )
        stage = self.eng.fetch(
            "SELECT COALESCE(n.customer_id, o.customer_id) AS customer_id, "
            "o.stage AS from_stage, n.stage AS to_stage FROM stages n FULL OUTER JOIN st_stages o "
            "ON n.customer_id = o.customer_id WHERE n.stage IS DISTINCT FROM o.stage "
            "ORDER BY 1"
        )
        return membership, stage


def run(
    lake: Path,
    state_dir: Path,
    as_of: dt.date,
    *,
    progress: Progress | None = None,
    extra_segments: Sequence[Segment] = (),
    threads: int | None = None,
    memory_limit: str = "",
) -> engines.Results:
    """Bring the incremental state under ``state_dir`` to ``as_of`` and return the results
    (the same tables as :func:`rongshu.insight.engine.run`, plus the changes)."""
    build = IncrementalBuild(
        lake,
        state_dir,
        extra_segments=extra_segments,
        threads=threads,
        memory_limit=memory_limit,
    )
    try:
        return build.run(as_of, progress)
    finally:
        build.close()
