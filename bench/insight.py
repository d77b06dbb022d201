"""Insight build on the synthetic bank: ``bench/insight.py [--quick]``.

Generates a lake with the synthetic bank (``rongshu.simulation.bank.lake.write_lake``), then:

- ``build_s_<n>``: the whole DuckDB engine run (every indicator, segment, stage, circle) on
  2 threads; the full run measures 100k customers (``build_s_100k``) and reports
  ``build_s_1m`` as null unless ``--million`` is given (1M customers is past this machine's
  time box; the report says so);
- ``engine_overhead_ratio``: 20 core indicators through the engine ÷ one hand-written DuckDB
  query computing the same 20;
- ``incremental_daily_s``: one more day lands in the lake, the build is rerun;
- ``duckdb_spark_agree``: exact equality of every result on a sample (10k customers in the full
  run; 500 customers over 2 months in ``--quick``, with Spark set up for small data);
- ``group_precision`` / ``group_recall`` (and flat ``group_precision_<group>`` /
  ``group_recall_<group>``): the four named groups against the generator's ground truth of
  the customer's state at the as-of date (:data:`TRUTH`: a running mortgage, a stay abroad
  overlapping the last 12 months, ...); ``group_*_ever`` against "the life event ever
  happened", for comparison only;
- ``peak_rss_mb``: the process's peak resident set.
"""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import parse_args, report

END_ON = dt.date(2026, 10, 31)
CORE = (
    "food_spend_12m", "clothing_spend_12m", "housing_spend_12m", "transport_spend_12m",
    "leisure_spend_12m", "medical_spend_12m", "finance_spend_12m", "food_count_12m",
    "salary_amount_12m", "salary_count_12m", "pension_amount_12m", "cross_border_count_12m",
    "cross_border_amount_12m", "inflow_12m", "outflow_12m", "txn_count_12m", "net_flow_12m",
    "channel_mobile_count_12m", "channel_branch_count_12m", "car_spend_12m",
)  # fmt: skip


def _lake(root: Path, customers: int, months: int = 12) -> Path:
    from rongshu.simulation.bank.lake import write_lake

    path = root / f"lake-{customers}-{months}"
    write_lake(path, customers=customers, months=months, seed=1, end_on=END_ON)
    return path


def _build_s(lake: Path) -> tuple[float, Any]:
    from rongshu.insight import engine

    eng = engine.DuckDBEngine(lake, threads=2)
    started = time.perf_counter()
    results = engine.run(eng, END_ON)
    elapsed = time.perf_counter() - started
    eng.close()
    return elapsed, results


def _overhead(lake: Path) -> float:
    from rongshu.insight import engine
    from rongshu.insight.library.indicators import BY_ID

    inds = [BY_ID[i] for i in CORE]
    eng = engine.DuckDBEngine(lake, threads=2)
    sql = engine.compile_profile(inds, END_ON)

    def run_engine() -> None:
        eng.create("profile", sql)
        eng.fetch("SELECT * FROM profile")

    start = engine.add_months(END_ON, -12)
    aggs = ", ".join(f"COALESCE(CAST({BY_ID[i]['sql']} AS BIGINT), 0) AS {i}" for i in CORE)
    hand = (
        f"SELECT c.customer_id, {', '.join('t.' + i for i in CORE)} FROM customers c LEFT JOIN "  # noqa: S608
        f"(SELECT customer_id, {aggs} FROM transactions WHERE \"date\" > DATE '{start}' "
        f"AND \"date\" <= DATE '{END_ON}' GROUP BY customer_id) t USING (customer_id) "
        "WHERE c.profiling_consent"
    )

    def run_hand() -> None:
        eng.fetch(hand)

    best: dict[str, float] = {}
    for name, func in (("engine", run_engine), ("hand", run_hand)) * 3:
        t0 = time.perf_counter()
        func()
        best[name] = min(best.get(name, 1e9), time.perf_counter() - t0)
    eng.close()
    return best["engine"] / best["hand"]


def _incremental(lake: Path) -> float:
    """One more day lands (a copy of the last day's partition under the next date), rerun."""
    import pyarrow.parquet as pq

    from rongshu.insight import engine

    days = sorted((lake / "transactions").glob("date=*"))
    last = days[-1]
    nxt = dt.date.fromisoformat(last.name[5:]) + dt.timedelta(days=1)
    target = lake / "transactions" / f"date={nxt.isoformat()}"
    started = time.perf_counter()
    target.mkdir()
    for f in last.glob("*.parquet"):
        pq.write_table(pq.read_table(f), target / f.name)
    eng = engine.DuckDBEngine(lake, threads=2)
    engine.run(eng, nxt)
    eng.close()
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed


# For a small sample Spark's time is planning the wide plan, not data: one shuffle partition,
# no adaptive execution, no whole-stage code generation (results do not depend on them).
SMALL_SPARK = {
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
}


def _agree(lake: Path, *, small: bool = False) -> bool:
    from rongshu.insight import engine

    duck = engine.DuckDBEngine(lake, threads=2)
    a = engine.run(duck, END_ON)
    duck.close()
    spark = engine.get_spark()
    for key, value in (SMALL_SPARK if small else {}).items():
        spark.conf.set(key, value)
    sp = engine.SparkEngine(lake, spark)
    b = engine.run(sp, END_ON)
    sp.close()
    return bool(
        a.profile.column_names == b.profile.column_names
        and engine.normalise(a.profile) == engine.normalise(b.profile)
        and engine.normalise(a.segments) == engine.normalise(b.segments)
        and engine.normalise(a.stages) == engine.normalise(b.stages)
    )


# The truth each named group is checked against, from the generator's ground truth (never
# read by the engine). A group is a *current* state, so the truth is the customer's state at
# the as-of date, not "the event ever happened":
# - elderly: the retirement event on or before the as-of date;
# - mortgage_holders: a mortgage spell whose term covers the as-of date (a cash purchase, or a
#   mortgage paid off, is a home owner but no mortgage holder);
# - cross_border: an abroad spell overlapping the 12 months up to the as-of date (someone who
#   studied abroad ten years ago is not a cross-border customer now);
# - car_owners: the car purchase on or before the as-of date.
TRUTH = {
    "elderly": "SELECT customer_id FROM life_events WHERE event = 'retirement' "
    'AND "on" <= {as_of}',
    "mortgage_holders": "SELECT customer_id FROM spells WHERE spell = 'mortgage' "
    "AND from_on <= {as_of} AND to_on >= {as_of}",
    "cross_border": "SELECT customer_id FROM spells WHERE spell = 'abroad' "
    "AND from_on <= {as_of} AND to_on > {as_of} - INTERVAL 12 MONTH",
    "car_owners": "SELECT customer_id FROM life_events WHERE event = 'car_purchase' "
    'AND "on" <= {as_of}',
}
# The naive truth, for comparison only: the group's life event ever happened.
EVER = {
    "elderly": "retirement",
    "mortgage_holders": "home_purchase",
    "cross_border": "abroad",
    "car_owners": "car_purchase",
}


def _truth(lake: Path, sql: str) -> set[str]:
    import duckdb

    con = duckdb.connect()
    for name in ("life_events", "spells"):
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM '{lake}/ground_truth/{name}.parquet'"  # noqa: S608
        )
    rows = con.execute(sql.format(as_of=f"DATE '{END_ON}'")).fetchall()
    con.close()
    return {r[0] for r in rows}


def precision_recall(
    lake: Path, results: Any, *, ever: bool = False
) -> tuple[dict[str, float], dict[str, float]]:
    """Each named group's members against its truth (:data:`TRUTH`, or :data:`EVER`)."""
    import pyarrow.compute as pc

    precision: dict[str, float] = {}
    recall: dict[str, float] = {}
    seg = results.segments
    ids = seg.column("customer_id")
    in_build = set(ids.to_pylist())
    for group, sql in TRUTH.items():
        if ever:
            sql = (
                "SELECT customer_id FROM life_events "  # noqa: S608
                f"WHERE event = '{EVER[group]}' AND \"on\" <= {{as_of}}"
            )
        truth = _truth(lake, sql) & in_build
        members = set(pc.filter(ids, seg.column(group)).to_pylist())
        hit = len(members & truth)
        precision[group] = round(hit / len(members), 3) if members else 0.0
        recall[group] = round(hit / len(truth), 3) if truth else 0.0
    return precision, recall


def main() -> None:
    million = "--million" in sys.argv
    args = parse_args(__doc__ or "", [a for a in sys.argv[1:] if a != "--million"])
    from rongshu.insight.library.indicators import INDICATORS
    from rongshu.insight.library.segments import SEGMENTS

    root = Path(tempfile.mkdtemp(prefix="insight-bench-"))
    metrics: dict[str, Any] = {"indicators": len(INDICATORS), "segments": len(SEGMENTS)}
    try:
        size = 2_000 if args.quick else 100_000
        t0 = time.perf_counter()
        lake = _lake(root, size)
        metrics["lake_customers"] = size
        metrics["lake_write_s"] = round(time.perf_counter() - t0, 2)
        build_s, results = _build_s(lake)
        metrics[f"build_s_{size // 1000}k"] = round(build_s, 2)
        if args.quick:
            metrics["build_s_100k"] = None
        metrics["build_s_1m"] = None
        if million:
            big = _lake(root, 1_000_000)
            metrics["build_s_1m"] = round(_build_s(big)[0], 2)
            shutil.rmtree(big)
        metrics["build_customers"] = results.profile.num_rows
        precision, recall = precision_recall(lake, results)
        members = {g: int(sum(results.segments.column(g).to_pylist())) for g in precision}
        metrics["group_members"] = members
        metrics["group_precision"] = precision
        metrics["group_recall"] = recall
        for group in precision:
            metrics[f"group_precision_{group}"] = precision[group]
            metrics[f"group_recall_{group}"] = recall[group]
        # for comparison: against "the life event ever happened" (not what the groups mean)
        precision_ever, recall_ever = precision_recall(lake, results, ever=True)
        metrics["group_precision_ever"] = precision_ever
        metrics["group_recall_ever"] = recall_ever
        metrics["engine_overhead_ratio"] = round(_overhead(lake), 3)
        metrics["incremental_daily_s"] = round(_incremental(lake), 2)
        # --quick: Spark on a 500-customer, 2-month lake (Spark reads every day folder)
        sample = _lake(root, 500, months=2) if args.quick else _lake(root, 10_000)
        metrics["agree_sample_customers"] = 500 if args.quick else 10_000
        metrics["duckdb_spark_agree"] = _agree(sample, small=args.quick)
        metrics["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report("insight", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
