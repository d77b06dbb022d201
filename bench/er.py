"""Entity-resolution benchmark: Splink on FEBRL and on the synthetic bank's multi-source set.

    .venv/bin/python bench/er.py [--quick] [--no-spark] [--max-records N]

    febrl4_f1                  FEBRL4 linkage (5,000 × 5,000), one-to-one links, DuckDB
    febrl3_f1                  FEBRL3 deduplication (5,000), cluster pairs, DuckDB
    febrl4_seconds             train + predict on FEBRL4 (DuckDB)
    spark_febrl4_f1            FEBRL4 on PySpark local[2] with the DuckDB-trained model
    spark_febrl4_seconds
    synthetic_multisource_f1   the synthetic bank's seven sources (write_sources), pairwise F1
                               over all within-person pairs; plus ``f1_<a>__<b>`` per source pair
    records_per_s_100k         source records per second end to end (standardise, train,
                               predict, cluster) at ~100k records; ``records_per_s_1m`` at ~1M
                               (full run only; with --max-records lower it is skipped)
    peak_rss_mb                peak resident memory of this process

--quick (< 90 s) runs FEBRL on DuckDB and a 3,000-person synthetic set, and skips Spark and
the throughput runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import report
from rongshu.customers import engine as er
from rongshu.customers import (
    febrl,
    pipeline,
)


def febrl4(engine: er.Engine, model_json: str | None = None) -> tuple[float, float, str]:
    a, b = febrl.load("dataset4a.csv"), febrl.load("dataset4b.csv")
    truth = febrl.true_pairs([a, b])
    started = time.perf_counter()
    scored = er.score(
        [a.drop(columns=["entity"]), b.drop(columns=["entity"])],
        er.febrl_settings("link_only", engine),
        er.FEBRL_EM_RULES,
        engine=engine,
        model_json=model_json,
        floor=0.01,
    )
    links = er.one_to_one(scored.pairs, 0.9)
    return er.pair_f1(links, truth)["f1"], time.perf_counter() - started, scored.model_json


def febrl3() -> float:
    d = febrl.load("dataset3.csv")
    truth = febrl.true_pairs([d])
    scored = er.score(
        [d.drop(columns=["entity"])], er.febrl_settings("dedupe_only"), er.FEBRL_EM_RULES, floor=0.5
    )
    edges = scored.pairs[scored.pairs["match_probability"] >= 0.9]
    assignment = er.clusters(
        d["unique_id"], zip(edges["unique_id_l"], edges["unique_id_r"], strict=True)
    )
    return er.pair_f1(er.cluster_pairs(assignment), truth)["f1"]


def retarget(model_json: str, engine: er.Engine) -> str:
    """The same trained parameters in another engine's SQL dialect."""
    import json

    from rongshu.customers.services import _retarget

    trained = json.loads(model_json)
    settings = er.febrl_settings("link_only", engine)
    settings["comparisons"] = _retarget(trained["comparisons"], settings["comparisons"])
    settings["probability_two_random_records_match"] = trained[
        "probability_two_random_records_match"
    ]
    return json.dumps(settings)


def synthetic(people: int, folder: Path) -> tuple[dict[str, float], int, float]:
    """F1 on the multi-source set; returns (metrics, records, seconds end to end).

    ``metrics`` also holds ``cpu_seconds`` (this process's CPU time over the same span, all
    threads): the machine is shared, so wall time is an upper bound and CPU time / cores a
    lower bound of what an idle 2-core machine would take."""
    import pandas as pd

    from rongshu.simulation.bank.sources import write_sources

    write_sources(folder, people=people, seed=1)
    truth_frame = pd.read_csv(folder / "truth.csv", dtype=str, keep_default_na=False)
    truth = dict(zip(truth_frame["record_id"], truth_frame["person_id"], strict=True))
    source_of = dict(zip(truth_frame["record_id"], truth_frame["source"], strict=True))
    del truth_frame
    parts = [
        pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted(folder.glob("*.csv"))
        if path.name != "truth.csv"
    ]
    raw = pd.concat(parts, ignore_index=True)
    del parts
    records = len(raw)
    started, cpu_started = time.perf_counter(), time.process_time()
    frame = pipeline.standardise_frame(raw, raw["record_id"].tolist())
    del raw
    assignment, _scored = pipeline.resolve_frame(frame)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    del frame, _scored
    predicted = er.cluster_pairs(assignment)
    by_person: dict[str, list[str]] = defaultdict(list)
    for rid, person in truth.items():
        by_person[person].append(rid)
    true_pairs: set[tuple[str, str]] = set()
    for members in by_person.values():
        members.sort()
        true_pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    metrics = {"synthetic_multisource_f1": er.pair_f1(predicted, true_pairs)["f1"]}
    metrics["cpu_seconds"] = cpu_seconds

    def key(pair: tuple[str, str]) -> str:
        s = sorted((source_of[pair[0]], source_of[pair[1]]))
        return f"f1_{s[0]}__{s[1]}"

    tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
    for pair in predicted:
        (tp if pair in true_pairs else fp)[key(pair)] += 1
    for pair in true_pairs - predicted:
        fn[key(pair)] += 1
    for k in sorted(set(tp) | set(fn)):
        denominator = 2 * tp[k] + fp[k] + fn[k]
        metrics[k] = round(2 * tp[k] / denominator, 4) if denominator else 1.0
    return metrics, records, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="entity-resolution benchmark")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--max-records", type=int, default=1_100_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rongshu.settings")
    import django

    django.setup()
    metrics: dict[str, Any] = {}
    f1, seconds, model_json = febrl4("duckdb")
    metrics["febrl4_f1"] = round(f1, 4)
    metrics["febrl4_seconds"] = round(seconds, 2)
    metrics["febrl3_f1"] = round(febrl3(), 4)
    if not args.quick and not args.no_spark:
        f1s, seconds_s, _ = febrl4("spark", retarget(model_json, "spark"))
        metrics["spark_febrl4_f1"] = round(f1s, 4)
        metrics["spark_febrl4_seconds"] = round(seconds_s, 2)
    with tempfile.TemporaryDirectory() as tmp:
        people = 3_000 if args.quick else 30_000
        found, records, seconds = synthetic(people, Path(tmp) / "multi")
        cpu_seconds = found.pop("cpu_seconds")
        metrics.update({k: round(v, 4) for k, v in found.items()})
        metrics["synthetic_records"] = records
        metrics[f"records_per_s_{records // 1000}k_synthetic"] = round(records / seconds)
        if not args.quick:
            # the 30k-person set above is the ~100k-record throughput run
            metrics["records_per_s_100k"] = round(records / seconds)
            metrics["records_per_s_100k_records"] = records
            metrics["records_per_s_100k_seconds"] = round(seconds, 1)
            metrics["records_per_s_100k_cpu_seconds"] = round(cpu_seconds, 1)
            if args.max_records >= 300_000 * 3.4:
                gc.collect()
                found_n, n, secs = synthetic(300_000, Path(tmp) / "m1")
                metrics["records_per_s_1m"] = round(n / secs)
                metrics["records_per_s_1m_records"] = n
                metrics["records_per_s_1m_seconds"] = round(secs, 1)
                metrics["records_per_s_1m_cpu_seconds"] = round(found_n["cpu_seconds"], 1)
                metrics["synthetic_1m_f1"] = round(found_n["synthetic_multisource_f1"], 4)
    metrics["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report("er", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
