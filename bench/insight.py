"""Insight build on the synthetic bank: ``bench/insight.py [--quick]``.

Generates a lake with the synthetic bank (``rongshu.simulation.bank.lake.write_lake``), then:

- ``build_s_<n>``: the whole DuckDB engine run (every indicator, segment, stage, circle) on
  2 threads; the full run measures 100k customers (``build_s_100k``); ``build_s_1m`` is taken
  from ``bench/results/insight_1m.json`` when present (``build_s_1m_from`` says so; null
  otherwise): ``--scale 1m|300k|100k`` (:func:`scale_main`) measures big lakes under a DuckDB
  memory limit, the lake written by one process per core and the indicators built per
  customer shard (``engine.run``), in ``bench/results/insight_<scale>.json``;
- ``engine_overhead_ratio``: 20 core indicators through the engine ÷ one hand-written DuckDB
  query computing the same 20;
- ``incremental_initial_s`` / ``incremental_daily_s``: the incremental build's state at the
  day before the as-of date, then the as-of day (``rongshu.insight.incremental``), and
  ``incremental_equals_full``: its results equal the full build's, exactly;
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
import os
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


def _same(a: Any, b: Any) -> bool:
    """Exact equality of two results' profile, segments and stages (compared in DuckDB: rows
    of one missing from the other, both ways)."""
    import duckdb

    con = duckdb.connect()
    try:
        for name in ("profile", "segments", "stages"):
            x, y = getattr(a, name), getattr(b, name)
            if x.column_names != y.column_names or x.num_rows != y.num_rows:
                return False
            con.register("x", x)
            con.register("y", y)
            for left, right in (("x", "y"), ("y", "x")):
                sql = (
                    f"SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL SELECT * FROM {right})"  # noqa: S608
                )
                if con.execute(sql).fetchall()[0][0]:
                    return False
            con.unregister("x")
            con.unregister("y")
        return True
    finally:
        con.close()


def _incremental(lake: Path, state: Path, full: Any) -> dict[str, Any]:
    """The incremental build (rongshu.insight.incremental): state at the day before the as-of
    date (a full build of the partials, timed as ``incremental_initial_s``), then the as-of
    day's partition is read and the windows moved (``incremental_daily_s``); the result must
    equal the full build at the as-of date (``incremental_equals_full``)."""
    from rongshu.insight import incremental

    t0 = time.perf_counter()
    incremental.run(lake, state, END_ON - dt.timedelta(days=1), threads=2)
    initial = time.perf_counter() - t0
    t1 = time.perf_counter()
    daily = incremental.run(lake, state, END_ON, threads=2)
    elapsed = time.perf_counter() - t1
    return {
        "incremental_initial_s": round(initial, 2),
        "incremental_daily_s": round(elapsed, 2),
        "incremental_affected_customers": daily.stats.get("affected_customers"),
        "incremental_changed_customers": daily.stats.get("changed_customers"),
        "incremental_timings": {k: round(v, 2) for k, v in daily.timings.items()},
        "incremental_equals_full": _same(daily, full),
    }


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


# ------------------------------------------------------------------ --scale: memory-bounded
SCALES = {"100k": 100_000, "300k": 300_000, "1m": 1_000_000}


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _scale_child(step: str, lake: Path, work: Path, memory: str, threads: int) -> dict[str, Any]:
    """One measured step in its own process, so ``peak_rss_mb`` is that step's own peak."""
    import pyarrow.parquet as pq

    from rongshu.insight import engine, incremental

    out: dict[str, Any] = {}
    if step == "full":
        eng = engine.DuckDBEngine(lake, threads=threads, memory_limit=memory)
        t0 = time.perf_counter()
        results = engine.run(eng, END_ON, progress=lambda m: print(m, file=sys.stderr, flush=True))
        out["build_s"] = round(time.perf_counter() - t0, 2)
        out["customers"] = results.profile.num_rows
        out["shards"] = results.stats.get("shards", 1)
        out["timings"] = {k: round(v, 2) for k, v in results.timings.items()}
        eng.close()
    else:
        state = work / "state"
        t0 = time.perf_counter()
        incremental.run(
            lake, state, END_ON - dt.timedelta(days=1), threads=threads, memory_limit=memory
        )
        out["initial_s"] = round(time.perf_counter() - t0, 2)
        out["initial_peak_rss_mb"] = _peak_mb()
        t1 = time.perf_counter()
        results = incremental.run(lake, state, END_ON, threads=threads, memory_limit=memory)
        out["daily_s"] = round(time.perf_counter() - t1, 2)
        out["customers"] = results.profile.num_rows
        out["stats"] = results.stats
        out["timings"] = {k: round(v, 2) for k, v in results.timings.items()}
        out["state_mb"] = round(
            sum(f.stat().st_size for f in state.rglob("*") if f.is_file()) / 2**20, 1
        )
    for name in ("profile", "segments", "stages"):
        pq.write_table(getattr(results, name), work / f"{step}-{name}.parquet")
    out["peak_rss_mb"] = _peak_mb()
    return out


def _run_scale_child(
    step: str, lake: Path, work: Path, memory: str, threads: int
) -> dict[str, Any]:
    import json
    import subprocess

    command = [sys.executable, __file__, "--scale-child", step, str(lake), str(work), memory]
    command.append(str(threads))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    print(done.stderr[-4000:], file=sys.stderr)
    if done.returncode != 0:
        print(done.stdout[-4000:], file=sys.stderr)
        raise RuntimeError(f"the {step} step failed")
    line = [x for x in done.stdout.splitlines() if x.startswith("METRICS ")][-1]
    return dict(json.loads(line[len("METRICS ") :]))


def scale_main(argv: list[str]) -> None:
    """``bench/insight.py --scale 1m [--lake DIR] [--months 4] [--memory-limit 4GB]
    [--threads 2] [--workers N] [--shards N] [--skip-incremental] [--keep-lake]``: the full
    build and the incremental daily build of a big lake under a DuckDB memory limit (spilling
    to its temp directory), each in its own process; the lake is generated under
    ``/tmp/insight-<scale>/`` by ``--workers`` processes (default one per core) and removed
    unless ``--lake`` names one (or ``--keep-lake``). The full build shards customers by hash
    as ``engine.shard_count`` chooses from the lake and the memory limit, or ``--shards``
    (``RONGSHU_INSIGHT_SHARDS``). Writes ``bench/results/insight_<scale>.json``."""
    import argparse

    import duckdb

    parser = argparse.ArgumentParser(description=scale_main.__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument("--lake", type=Path, default=None)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--shards", type=int, default=0, help="0: engine.shard_count decides")
    parser.add_argument("--keep-lake", action="store_true")
    args = parser.parse_args(argv)
    if args.shards:
        os.environ["RONGSHU_INSIGHT_SHARDS"] = str(args.shards)  # read by the build's process
    customers = SCALES[args.scale]
    root = Path(tempfile.gettempdir()) / f"insight-{args.scale}"
    work = root / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    metrics: dict[str, Any] = {"scale": args.scale, "memory_limit": args.memory_limit}
    metrics["threads"] = args.threads
    lake = args.lake
    try:
        if lake is None:
            lake = root / "lake"
            t0 = time.perf_counter()
            _lake_at(lake, customers, args.months, args.workers)
            metrics["lake_write_s"] = round(time.perf_counter() - t0, 2)
            metrics["lake_workers"] = args.workers
        con = duckdb.connect()
        glob = f"{lake}/transactions/date=*/*.parquet"
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()  # noqa: S608
        metrics["lake_transactions"] = int(rows[0][0])
        metrics["lake_days"] = len(list((lake / "transactions").glob("date=*")))
        metrics["lake_mb"] = round(
            sum(f.stat().st_size for f in lake.rglob("*") if f.is_file()) / 2**20, 1
        )
        con.close()
        if not args.skip_full:
            full = _run_scale_child("full", lake, work, args.memory_limit, args.threads)
            metrics[f"build_s_{args.scale}"] = full["build_s"]
            metrics["build_customers"] = full["customers"]
            metrics["build_shards"] = full["shards"]
            metrics["build_timings"] = full["timings"]
            metrics["peak_rss_mb"] = full["peak_rss_mb"]
        if not args.skip_incremental:
            report(f"insight_{args.scale}", metrics, quick=False)  # kept if the next step dies
            inc = _run_scale_child("incremental", lake, work, args.memory_limit, args.threads)
            metrics["incremental_initial_s"] = inc["initial_s"]
            metrics[f"incremental_daily_s_{args.scale}"] = inc["daily_s"]
            metrics["incremental_stats"] = inc["stats"]
            metrics["incremental_timings"] = inc["timings"]
            metrics["incremental_state_mb"] = inc["state_mb"]
            metrics["incremental_peak_rss_mb"] = inc["peak_rss_mb"]
            metrics["incremental_customers"] = inc["customers"]
        if not (args.skip_incremental or args.skip_full):
            con = duckdb.connect()
            same = True
            for name in ("profile", "segments", "stages"):
                for a, b in (("full", "incremental"), ("incremental", "full")):
                    sql = (
                        f"SELECT count(*) FROM (SELECT * FROM '{work}/{a}-{name}.parquet' "  # noqa: S608
                        f"EXCEPT ALL SELECT * FROM '{work}/{b}-{name}.parquet')"
                    )
                    same = same and not con.execute(sql).fetchall()[0][0]
            con.close()
            metrics["incremental_equals_full"] = same
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.lake is None and not args.keep_lake:
            shutil.rmtree(root, ignore_errors=True)
    report(f"insight_{args.scale}", metrics, quick=False)


def _lake_at(path: Path, customers: int, months: int, workers: int) -> None:
    from rongshu.simulation.bank.lake import write_lake

    write_lake(path, customers=customers, months=months, seed=1, end_on=END_ON, workers=workers)


def _build_s_1m() -> dict[str, Any]:
    """``build_s_1m`` is not measured by this run: it comes from ``bench/insight.py --scale
    1m`` (``bench/results/insight_1m.json``) when that file has it, labelled with its source,
    its date and its peak RSS; null otherwise."""
    import json

    path = Path(__file__).resolve().parent / "results" / "insight_1m.json"
    try:
        got = json.loads(path.read_text())
        value = got["metrics"]["build_s_1m"]
    except (OSError, ValueError, KeyError):
        return {"build_s_1m": None}
    return {
        "build_s_1m": value,
        "build_s_1m_from": f"bench/results/insight_1m.json ({got.get('measured_at')}, "
        f"memory_limit {got['metrics'].get('memory_limit')}, "
        f"{got['metrics'].get('build_shards')} shards, "
        f"peak_rss_mb {got['metrics'].get('peak_rss_mb')}), not this run",
    }


def main() -> None:
    if "--scale-child" in sys.argv:
        i = sys.argv.index("--scale-child")
        step, lake, work, memory, threads = sys.argv[i + 1 : i + 6]
        got = _scale_child(step, Path(lake), Path(work), memory, int(threads))
        import json

        print("METRICS " + json.dumps(got, default=str))
        return
    if "--scale" in sys.argv:
        scale_main(sys.argv[1:])
        return
    args = parse_args(__doc__ or "", sys.argv[1:])
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
        metrics.update(_build_s_1m())
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
        metrics.update(_incremental(lake, root / "state", results))
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
