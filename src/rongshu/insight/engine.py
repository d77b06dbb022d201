# ruff: noqa: S608 - this module is a SQL compiler: every fragment comes from the shipped
# library or from rules parsed and re-emitted by rongshu.insight.rules, never raw user text.
"""The indicator engine: compile the library to SQL once, run it on DuckDB or Spark.

The plan is three statements in DuckDB dialect (Spark gets them transpiled by SQLGlot):

1. ``profile`` — one row per consenting customer, one column per indicator. Indicators that
   share a (source, window) become one grouped query (one scan, many aggregates); the groups are
   left-joined to the customers table and derived indicators are computed on top.
2. ``segments`` — one boolean column per segment, from the compiled rules.
3. ``stages`` — the base lifecycle stage (first matching rule).
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from rongshu.insight.errors import LakeMissing
from rongshu.insight.library.indicators import INDICATORS, Indicator
from rongshu.insight.library.segments import CIRCLES, SEGMENTS, STAGES, Segment
from rongshu.insight.rules import compile_rule

TABLES = ("customers", "accounts", "transactions", "balances", "events")
PARTITIONED = {"transactions", "balances", "events"}
# The documented schema (docs/lake.md), used for tables absent from a lake.
SCHEMAS: dict[str, str] = {
    "customers": "customer_id VARCHAR, kind VARCHAR, gender VARCHAR, birth_on DATE, "
    "province_code VARCHAR, city_code VARCHAR, district_code VARCHAR, onboarded_on DATE, "
    "employer_id VARCHAR, kyc_level INTEGER, profiling_consent BOOLEAN",
    "accounts": "account_id VARCHAR, customer_id VARCHAR, product_code VARCHAR, opened_on DATE, "
    "closed_on DATE, currency VARCHAR",
    "transactions": "txn_id VARCHAR, customer_id VARCHAR, account_id VARCHAR, "
    "booked_at TIMESTAMP, amount_minor BIGINT, currency VARCHAR, kind VARCHAR, channel VARCHAR, "
    "mcc VARCHAR, need_category VARCHAR, counterparty_id VARCHAR, cross_border BOOLEAN, "
    'country VARCHAR, "date" DATE',
    "balances": "customer_id VARCHAR, account_id VARCHAR, product_code VARCHAR, "
    'balance_minor BIGINT, currency VARCHAR, "date" DATE',
    "events": "event_id VARCHAR, type VARCHAR, occurred_at TIMESTAMP, customer_id VARCHAR, "
    'payload VARCHAR, "date" DATE',
}

Progress = Callable[[str], None]


def add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end_on_or_before(day: dt.date) -> dt.date:
    last = calendar.monthrange(day.year, day.month)[1]
    if day.day == last:
        return day
    first = day.replace(day=1)
    return first - dt.timedelta(days=1)


def _lit(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _expr(ind: Indicator, as_of: dt.date) -> str:
    sql = str(ind["sql"]).replace("{as_of}", _lit(as_of))
    if ind["unit"] not in ("ratio", "code") and ind["source"] != "derived":
        sql = f"CAST({sql} AS BIGINT)"  # SUM of BIGINT is HUGEINT on DuckDB, BIGINT on Spark
    return sql


def _default(ind: Indicator, column: str) -> str:
    if ind["default"] is None:
        return column
    return f"COALESCE({column}, {ind['default']})"


@dataclass(frozen=True)
class Plan:
    as_of: dt.date
    profile_sql: str
    segments_sql: str
    stages_sql: str
    indicator_ids: tuple[str, ...]
    segment_ids: tuple[str, ...]


def compile_profile(
    indicators: Sequence[Indicator],
    as_of: dt.date,
    relations: dict[tuple[str, int], str] | None = None,
    shard: str = "",
    tables: dict[str, str] | None = None,
) -> str:
    """One statement computing every indicator for every consenting customer.

    ``relations`` replaces the ``FROM ... GROUP BY`` of a (source, window) group: the
    incremental build (:mod:`rongshu.insight.incremental`) reads its merged per-customer
    aggregates there, one row per customer, with the indicators rewritten over them.

    ``shard`` (a predicate on ``customer_id``, :func:`shard_predicate`) restricts the statement
    to one customer shard: every customer's indicators read only that customer's rows, so the
    shards' rows together are exactly the unsharded statement's rows. ``tables`` names a
    relation to read instead of a source (a shard's rows, already cut: no predicate added)."""
    cut = f" AND {shard}" if shard else ""
    tables = tables or {}
    groups: dict[tuple[str, int], list[Indicator]] = {}
    base: list[Indicator] = []
    derived: list[Indicator] = []
    for ind in indicators:
        if ind["source"] == "customers":
            base.append(ind)
        elif ind["source"] == "derived":
            derived.append(ind)
        else:
            key = (ind["source"], int(ind["window"]) if ind["source"] != "accounts" else 0)
            groups.setdefault(key, []).append(ind)
    ctes = [
        "base AS (SELECT customer_id"
        + "".join(f", {_expr(i, as_of)} AS {i['id']}" for i in base)
        + f" FROM customers WHERE profiling_consent{cut})"
    ]
    joins: list[str] = []
    columns: list[str] = [f"base.{i['id']} AS {i['id']}" for i in base]
    for n, ((source, window), inds) in enumerate(sorted(groups.items())):
        name = f"g{n}"
        if source in ("transactions", "events"):
            where = (
                f' WHERE "date" > {_lit(add_months(as_of, -window))} AND "date" <= {_lit(as_of)}'
            )
        elif source == "balances":
            snap = month_end_on_or_before(add_months(as_of, -window))
            where = (
                f' WHERE "date" = (SELECT MAX("date") FROM balances WHERE "date" <= {_lit(snap)})'
            )
        else:
            where = " WHERE TRUE" if shard else ""
        if source not in tables:
            where += cut
        aggs = "".join(f", {_expr(i, as_of)} AS {i['id']}" for i in inds)
        relation = (relations or {}).get((source, window))
        if relation is None:
            relation = f"FROM {tables.get(source, source)}{where} GROUP BY customer_id"
        ctes.append(f"{name} AS (SELECT customer_id{aggs} {relation})")
        joins.append(f" LEFT JOIN {name} ON {name}.customer_id = base.customer_id")
        for i in inds:
            column = _default(i, f"{name}.{i['id']}")
            columns.append(f"{column} AS {i['id']}")
    ctes.append(
        "joined AS (SELECT base.customer_id AS customer_id, "
        + ", ".join(columns)
        + " FROM base"
        + "".join(joins)
        + ")"
    )
    order = [i["id"] for i in indicators if i["source"] != "derived"]
    final = ["customer_id", *order] + [f"{_expr(i, as_of)} AS {i['id']}" for i in derived]
    return "WITH " + ", ".join(ctes) + " SELECT " + ", ".join(final) + " FROM joined"


def compile_segments(segments: Iterable[Segment], source: str = "profile") -> str:
    cols = [
        f'CASE WHEN {compile_rule(s["rule"]).sql} THEN TRUE ELSE FALSE END AS "{s["id"]}"'
        for s in segments
    ]
    return "SELECT customer_id, " + ", ".join(cols) + f" FROM {source}"


def compile_stages(source: str = "profile") -> str:
    whens = " ".join(
        f"WHEN {compile_rule(rule).sql} THEN '{stage}'" for stage, _zh, _en, rule in STAGES
    )
    return f"SELECT customer_id, CASE {whens} END AS stage FROM {source}"


def compile_circles() -> str:
    """Per circle: members, members holding a bank product, engaged members."""
    parts = []
    for c in CIRCLES:
        held = " OR ".join(f"p.holds_{p.replace('.', '_')} = 1" for p in c["bank_products"])
        engaged = compile_rule(c["engagement"]).sql
        # qualify indicator columns with the profile alias
        parts.append(
            f"SELECT '{c['id']}' AS circle_id, COUNT(*) AS members, "
            f"SUM(CASE WHEN {held} THEN 1 ELSE 0 END) AS holding, "
            f"SUM(CASE WHEN {engaged} THEN 1 ELSE 0 END) AS engaged "
            f"FROM profile p JOIN segments s ON s.customer_id = p.customer_id "
            f"WHERE s.{c['segment']}"
        )
    return " UNION ALL ".join(parts)


def make_plan(as_of: dt.date, extra_segments: Sequence[Segment] = ()) -> Plan:
    """The plan for ``as_of``: the shipped library plus ``extra_segments`` (saved custom
    segments; their ids are checked identifiers, their rules parsed like shipped ones)."""
    segments = [*SEGMENTS, *extra_segments]
    return Plan(
        as_of=as_of,
        profile_sql=compile_profile(INDICATORS, as_of),
        segments_sql=compile_segments(segments),
        stages_sql=compile_stages(),
        indicator_ids=tuple(i["id"] for i in INDICATORS),
        segment_ids=tuple(s["id"] for s in segments),
    )


def shard_sources(
    indicators: Sequence[Indicator], as_of: dt.date, shard: str
) -> dict[str, tuple[str, str]]:
    """For each daily source (``transactions``, ``events``) with indicators: the name and
    the query of one shard's rows in the longest window, only the columns the indicators read
    (found with SQLGlot; every column when one cannot be parsed). The sharded build
    materialises these once per shard, so the lake is scanned once per shard, not once per
    window."""
    import sqlglot
    from sqlglot import exp

    out: dict[str, tuple[str, str]] = {}
    for source in ("transactions", "events"):
        inds = [i for i in indicators if i["source"] == source]
        if not inds:
            continue
        known = [c.split()[0].strip('"') for c in SCHEMAS[source].split(", ")]
        used = {"customer_id", "date"}
        try:
            for ind in inds:
                tree = sqlglot.parse_one(str(ind["sql"]).replace("{as_of}", "NULL"), read="duckdb")
                used |= {c.name for c in tree.find_all(exp.Column)}
        except sqlglot.errors.ParseError:
            used = set(known)
        columns = ", ".join(f'"{c}"' for c in known if c in used)
        since = add_months(as_of, -max(int(i["window"]) for i in inds))
        out[source] = (
            f"shard_{source}",
            f'SELECT {columns} FROM {source} WHERE "date" > {_lit(since)} '
            f'AND "date" <= {_lit(as_of)} AND {shard}',
        )
    return out


def shard_predicate(shards: int, shard: int) -> str:
    """Customer shard ``shard`` of ``shards`` (DuckDB's ``hash``, stable for a DuckDB version;
    only membership matters, results are sorted by customer)."""
    return f"hash(customer_id) % {int(shards)} = {int(shard)}"


# Bytes of DuckDB memory per transaction row in the longest window at the full build's peak:
# unsharded, 300k customers (about 29M rows) peaked at 7.9 GB RSS under an 8 GB limit and ran
# out of memory under 4 GB, about 270 bytes a row; with a margin. At 1M (97.5M rows, 8 GB)
# this gives 10 shards, one shard (its rows staged, then aggregated) peaking at 4.6 GB RSS.
BYTES_PER_ROW = 400


def parse_size(text: str) -> int:
    """``4GB``, ``800MB``, ``1.5GiB`` -> bytes (DuckDB reads KB/MB/GB/TB as powers of 1000 and
    KiB/MiB/GiB as powers of 1024)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])(i?)B", text.strip(), re.I)
    if not match:
        raise ValueError(f"{text!r}: use e.g. 4GB or 800MB")
    power = "KMGT".index(match.group(2).upper()) + 1
    base = 1024 if match.group(3) else 1000
    return int(float(match.group(1)) * base**power)


def shards_for(rows: int, memory_limit: str) -> int:
    """How many customer shards keep one shard's hash tables (``rows`` transaction rows in the
    longest window, :data:`BYTES_PER_ROW` each) within half of ``memory_limit``."""
    budget = max(1, parse_size(memory_limit) // 2)
    return max(1, -(-rows * BYTES_PER_ROW // budget))


# ------------------------------------------------------------------ engines
class Engine(Protocol):
    name: str

    def create(self, name: str, sql: str) -> None: ...

    def append(self, name: str, sql: str) -> None: ...

    def drop(self, name: str) -> None: ...

    def shard_count(self, as_of: dt.date) -> int: ...

    def fetch(self, sql: str) -> pa.Table: ...

    def close(self) -> None: ...


def _parquet_glob(lake: Path, table: str) -> str | None:
    folder = lake / table
    if not folder.exists():
        return None
    if table in PARTITIONED:
        files = list(folder.glob("date=*/*.parquet"))
        return str(folder / "date=*" / "*.parquet") if files else None
    files = list(folder.glob("*.parquet"))
    return str(folder / "*.parquet") if files else None


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


@dataclass(frozen=True)
class DuckDBSettings:
    """DuckDB's resources for a build: ``memory_limit`` (DuckDB spills to ``temp_directory``
    above it), ``threads``. Defaults: 40 % of physical memory (at least 1 GB), one thread per
    core (at most 4), a spill folder under the system temp directory. Environment:
    ``RONGSHU_INSIGHT_MEMORY_LIMIT`` (``4GB``, ``800MB``...), ``RONGSHU_INSIGHT_THREADS``,
    ``RONGSHU_INSIGHT_TEMP_DIR``, ``RONGSHU_INSIGHT_MAX_TEMP`` (the most the spill may take on
    disk, e.g. ``30GB``; DuckDB's default is 90 % of the free space)."""

    memory_limit: str
    threads: int
    temp_directory: str
    max_temp_size: str = ""

    @classmethod
    def from_env(cls, **override: Any) -> DuckDBSettings:
        import tempfile

        mb = max(1024, _physical_memory() * 4 // 10 // 2**20)
        values: dict[str, Any] = {
            "memory_limit": os.environ.get("RONGSHU_INSIGHT_MEMORY_LIMIT", "") or f"{mb}MB",
            "threads": int(
                os.environ.get("RONGSHU_INSIGHT_THREADS", "") or min(os.cpu_count() or 2, 4)
            ),
            "temp_directory": os.environ.get("RONGSHU_INSIGHT_TEMP_DIR", "")
            or str(Path(tempfile.gettempdir()) / "rongshu-insight-spill"),
        }
        values.update({k: v for k, v in override.items() if v})
        values["max_temp_size"] = os.environ.get("RONGSHU_INSIGHT_MAX_TEMP", "")
        for key in ("memory_limit", "max_temp_size"):
            if values[key] and not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", values[key], re.I):
                raise ValueError(f"{key} {values[key]!r}: use e.g. 4GB or 800MB")
        return cls(
            str(values["memory_limit"]),
            int(values["threads"]),
            str(values["temp_directory"]),
            str(values["max_temp_size"]),
        )


class DuckDBEngine:
    """DuckDB over the lake's Parquet files (views). ``database`` is a DuckDB file for the
    incremental build's state (in memory by default)."""

    name = "duckdb"

    def __init__(
        self,
        lake: Path,
        *,
        threads: int | None = None,
        memory_limit: str = "",
        temp_directory: str = "",
        database: Path | None = None,
    ) -> None:
        import duckdb

        self.settings = DuckDBSettings.from_env(
            memory_limit=memory_limit, threads=threads, temp_directory=temp_directory
        )
        self.lake = lake
        self.con = duckdb.connect(str(database) if database else ":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(f"SET threads = {self.settings.threads}")
        self.con.execute(f"SET memory_limit = '{self.settings.memory_limit}'")
        Path(self.settings.temp_directory).mkdir(parents=True, exist_ok=True)
        self.con.execute(f"SET temp_directory = '{self.settings.temp_directory}'")
        if self.settings.max_temp_size:
            self.con.execute(f"SET max_temp_directory_size = '{self.settings.max_temp_size}'")
        self.con.execute("SET preserve_insertion_order = false")
        if _parquet_glob(lake, "customers") is None:
            raise LakeMissing()
        for table in TABLES:
            glob = _parquet_glob(lake, table)
            if glob is None:
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({SCHEMAS[table]})")
            elif table in PARTITIONED:
                self.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM read_parquet('{glob}', "
                    "hive_partitioning = true, hive_types = {'date': DATE})"
                )
            else:
                self.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM read_parquet('{glob}')"
                )

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def append(self, name: str, sql: str) -> None:
        self.con.execute(f"INSERT INTO {name} {sql}")

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def shard_count(self, as_of: dt.date) -> int:
        """``RONGSHU_INSIGHT_SHARDS`` when set, else :func:`shards_for` the transaction rows of
        the longest window (counted from the Parquet footers) under the memory limit."""
        forced = os.environ.get("RONGSHU_INSIGHT_SHARDS", "")
        if forced:
            return max(1, int(forced))
        longest = max(
            (int(i["window"]) for i in INDICATORS if i["source"] == "transactions"), default=12
        )
        since = _lit(add_months(as_of, -longest))
        got = self.con.execute(
            f'SELECT count(*) FROM transactions WHERE "date" > {since} AND "date" <= {_lit(as_of)}'
        ).fetchall()
        return shards_for(int(got[0][0]), self.settings.memory_limit)

    def fetch(self, sql: str) -> pa.Table:
        result: pa.Table = self.con.sql(sql).to_arrow_table()
        return result

    def close(self) -> None:
        self.con.close()


def to_spark_sql(sql: str) -> str:
    import sqlglot

    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


class SparkEngine:
    """Runs the same plan on Spark (local mode by default), SQL transpiled with SQLGlot."""

    name = "spark"

    def __init__(self, lake: Path, spark: Any = None) -> None:
        if spark is None:
            spark = get_spark()
        self.spark = spark
        if _parquet_glob(lake, "customers") is None:
            raise LakeMissing()
        for table in TABLES:
            glob = _parquet_glob(lake, table)
            if glob is None:
                cols = SCHEMAS[table].replace('"date"', "`date`").replace("VARCHAR", "STRING")
                df = spark.createDataFrame([], cols)
            elif table in PARTITIONED:
                df = spark.read.option("basePath", str(lake / table)).parquet(
                    str(lake / table / "date=*")
                )
            else:
                df = spark.read.parquet(str(lake / table))
            df.cache().createOrReplaceTempView(table)
        self.tables = TABLES

    def create(self, name: str, sql: str) -> None:
        df = self.spark.sql(to_spark_sql(sql))
        df.cache().createOrReplaceTempView(name)

    def append(self, name: str, sql: str) -> None:
        df = self.spark.table(name).unionByName(self.spark.sql(to_spark_sql(sql)))
        df.cache().createOrReplaceTempView(name)

    def drop(self, name: str) -> None:
        if self.spark.catalog.tableExists(name):
            self.spark.table(name).unpersist()
        self.spark.catalog.dropTempView(name)

    def shard_count(self, as_of: dt.date) -> int:
        """Spark spreads the aggregation itself: one shard (DuckDB's ``hash`` in
        :func:`shard_predicate` has no Spark equivalent here)."""
        return 1

    def fetch(self, sql: str) -> pa.Table:
        df = self.spark.sql(to_spark_sql(sql))
        result: pa.Table = df.toArrow()
        return result

    def close(self) -> None:
        for name in ("profile", "segments", "stages", *self.tables):
            if self.spark.catalog.tableExists(name):
                self.spark.table(name).unpersist()
            self.spark.catalog.dropTempView(name)


_spark: Any = None


def get_spark(master: str = "local[2]") -> Any:
    """One local Spark session per process (startup takes seconds)."""
    global _spark
    if _spark is None:
        from pyspark.sql import SparkSession

        _spark = (
            SparkSession.builder.master(master)
            .appName("rongshu-insight")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "true")
            .getOrCreate()
        )
        _spark.sparkContext.setLogLevel("ERROR")
    return _spark


def open_engine(name: str, lake: Path) -> Engine:
    if name == "spark":
        return SparkEngine(lake)
    return DuckDBEngine(lake)


@dataclass
class Results:
    as_of: dt.date
    engine: str
    profile: pa.Table
    segments: pa.Table  # customer_id + one boolean column per segment
    stages: pa.Table  # customer_id, stage
    circles: pa.Table  # circle_id, members, holding, engaged
    timings: dict[str, float]
    freshness: dict[str, dt.date | None]  # source -> latest lake date on or before as_of
    # incremental builds only: membership changes (customer_id, segment_id, change
    # 'entered'/'left'), stage changes (customer_id, from_stage, to_stage), counters
    membership_changes: pa.Table | None = None
    stage_changes: pa.Table | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def run(
    engine: Engine,
    as_of: dt.date,
    progress: Progress | None = None,
    extra_segments: Sequence[Segment] = (),
    shards: int | None = None,
) -> Results:
    """Run the whole plan on ``engine``; results come back as Arrow tables sorted by customer.

    The indicators are computed per customer shard (``shards``; default
    ``engine.shard_count(as_of)``: one for a lake that fits the memory limit) and appended to
    one ``profile`` table: every indicator of a customer reads only that customer's rows, so
    the table is the same for any number of shards, and only one shard's hash tables are in
    memory at a time. Segments, stages and circles are computed over the whole profile."""
    import time

    say = progress or (lambda _m: None)
    plan = make_plan(as_of, extra_segments)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    n = engine.shard_count(as_of) if shards is None else max(1, int(shards))
    if n > 1 and engine.name != "duckdb":
        raise ValueError(f"the sharded build needs DuckDB, not {engine.name}")
    say(f"indicators ({len(plan.indicator_ids)})" + (f", {n} customer shards" if n > 1 else ""))
    if n == 1:
        engine.create("profile", plan.profile_sql)
    for k in range(n if n > 1 else 0):
        t_shard = time.perf_counter()
        predicate = shard_predicate(n, k)
        staged = shard_sources(INDICATORS, as_of, predicate)
        for name, query in staged.values():
            engine.create(name, query)
        tables = {source: name for source, (name, _q) in staged.items()}
        sql = compile_profile(INDICATORS, as_of, shard=predicate, tables=tables)
        (engine.create if k == 0 else engine.append)("profile", sql)
        for name in tables.values():
            engine.drop(name)
        timings[f"shard_{k}_s"] = time.perf_counter() - t_shard
        say(f"indicators: shard {k + 1}/{n} in {timings[f'shard_{k}_s']:.1f} s")
    timings["indicators_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    say(f"segments ({len(plan.segment_ids)})")
    engine.create("segments", plan.segments_sql)
    engine.create("stages", plan.stages_sql)
    timings["segments_s"] = time.perf_counter() - t1
    say("collect")
    profile = engine.fetch("SELECT * FROM profile ORDER BY customer_id")
    segments = engine.fetch("SELECT * FROM segments ORDER BY customer_id")
    stages = engine.fetch("SELECT * FROM stages ORDER BY customer_id")
    circles = engine.fetch(compile_circles())
    fresh: dict[str, dt.date | None] = {}
    for source in sorted(PARTITIONED):
        got = engine.fetch(f'SELECT MAX("date") AS d FROM {source} WHERE "date" <= {_lit(as_of)}')
        fresh[source] = got.column(0)[0].as_py()
    fresh["customers"] = fresh["accounts"] = as_of
    timings["total_s"] = time.perf_counter() - t0
    return Results(
        as_of, engine.name, profile, segments, stages, circles, timings, fresh, stats={"shards": n}
    )


def normalise(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows as plain Python values, for exact cross-engine comparison (ints as ints, floats
    as floats, dates as dates)."""
    cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [tuple(values) for values in zip(*cols, strict=True)]
