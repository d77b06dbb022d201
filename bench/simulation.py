"""Benchmark the synthetic bank: generation speed, Parquet lake speed and memory at growing
scale, loading speed through the ledger's batch API, validity of every identifier and
reproducibility.

    python bench/simulation.py [--quick]

Each lake size runs in its own process so ``peak_rss_mb`` is that run's own peak (flat memory
means the figure barely moves from 10k to 1M customers). The full run writes 10k and 100k
customers × 12 months, and 1M customers × 1 month (the 1M × 12 months run, about 300M
transactions, takes about half an hour on this 2-core machine; memory does not depend on the
number of months). ``--quick`` shrinks every size (under a minute).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import ROOT, child_main, parse_args, production_env, report, run_child

sys.path.insert(0, str(ROOT / "src"))
END = dt.date(2026, 11, 29)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _lake_child(customers: int, months: int) -> dict[str, Any]:
    from rongshu.simulation.bank.lake import write_lake

    with tempfile.TemporaryDirectory(prefix="rongshu-bench-lake-") as tmp:
        started = time.perf_counter()
        counts = write_lake(Path(tmp), customers=customers, months=months, seed=1, end_on=END)
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    return {
        "customers": customers,
        "months": months,
        "transactions": counts["transactions"],
        "seconds": round(seconds, 2),
        "lake_mb": round(size / 2**20, 1),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


def run_lake(customers: int, months: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--lake-child", str(customers), str(months)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        raise RuntimeError(f"lake run of {customers} customers failed")
    line = [x for x in done.stdout.splitlines() if x.startswith("LAKE ")][-1]
    return dict(json.loads(line[5:]))


def generate_customers(n: int) -> tuple[float, int]:
    """People (with names, IDs, phones and addresses as text) and their lives, per second;
    and how many generated identifiers fail validation."""
    from rongshu.simulation.bank.companies import company, company_count, is_valid_uscc
    from rongshu.simulation.bank.ids import BLOCK
    from rongshu.simulation.bank.lives import generate_lives
    from rongshu.simulation.bank.people import (
        generate_people,
        is_valid_division,
        is_valid_phone,
        is_valid_resident_id,
    )

    invalid = 0
    started = time.perf_counter()
    for block in range((n + BLOCK - 1) // BLOCK):
        people = generate_people(1, block, END)
        generate_lives(people)
        for i in range(min(BLOCK, n - block * BLOCK)):
            people.name(i)
            people.address(i)
            invalid += not is_valid_resident_id(people.resident_id(i))
            invalid += not is_valid_phone(people.phone(i))
            invalid += not is_valid_division(f"{int(people.county[i]):06d}", historic=False)
    seconds = time.perf_counter() - started
    for k in range(company_count(n)):
        invalid += not is_valid_uscc(company(1, k).uscc)
    return n / seconds, invalid


def _stdnum_check(n: int) -> int:
    """The independent oracle: python-stdnum's resident ID and USCC validators."""
    from stdnum.cn import ric, uscc

    from rongshu.simulation.bank.companies import company
    from rongshu.simulation.bank.ids import BLOCK
    from rongshu.simulation.bank.people import generate_people

    bad = 0
    for block in range((n + BLOCK - 1) // BLOCK):
        people = generate_people(1, block, END)
        for i in range(min(BLOCK, n - block * BLOCK)):
            try:
                bad += not ric.is_valid(people.resident_id(i))
            except KeyError:
                bad += 1
    bad += sum(not uscc.is_valid(company(1, k).uscc) for k in range(max(4, n // 40)))
    return bad


def reproducible() -> bool:
    from rongshu.simulation.bank.lake import write_lake
    from rongshu.simulation.bank.sources import write_sources

    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for run in ("a", "b"):
            write_lake(base / run / "lake", customers=1500, months=2, seed=42, end_on=END)
            write_sources(base / run / "sources", people=1500, seed=42)
        return digest(base / "a") == digest(base / "b")


def _load_child(backend: str, quick: bool) -> dict[str, Any]:
    from _harness import setup_django

    setup_django()
    from django.core.management import call_command
    from django.db import transaction

    from rongshu.simulation.bank.load import load_bank

    call_command("migrate", verbosity=0)
    customers = 300 if quick else 2000
    started = time.perf_counter()
    with transaction.atomic():
        counts = load_bank(customers=customers, months=3, seed=1, end_on=END)
    seconds = time.perf_counter() - started
    return {
        f"transactions_per_s_load_{backend}": round(counts["created"] / seconds),
        f"load_transfers_{backend}": counts["created"],
        f"load_refused_{backend}": counts["refused"],
    }


def main() -> None:
    if "--lake-child" in sys.argv:
        k = sys.argv.index("--lake-child")
        print("LAKE " + json.dumps(_lake_child(int(sys.argv[k + 1]), int(sys.argv[k + 2]))))
        return
    if child_main(_load_child):
        return
    args = parse_args(__doc__ or "")
    quick = args.quick
    metrics: dict[str, Any] = {}
    per_s, invalid = generate_customers(5_000 if quick else 50_000)
    metrics["customers_per_s_generate"] = round(per_s)
    metrics["invalid_ids"] = invalid + _stdnum_check(2_000 if quick else 20_000)
    sizes = (
        [("10k", 2_000, 3), ("100k", 10_000, 1)]
        if quick
        else [("10k", 10_000, 12), ("100k", 100_000, 12), ("1m", 1_000_000, 1)]
    )
    runs = {}
    for label, customers, months in sizes:
        runs[label] = run_lake(customers, months)
        print(f"lake {label}: {runs[label]}", file=sys.stderr)
    biggest = max(runs.values(), key=lambda r: r["transactions"])
    metrics["transactions_per_s_generate"] = round(biggest["transactions"] / biggest["seconds"])
    for label, run in runs.items():
        metrics[f"peak_rss_mb_{label}"] = run["peak_rss_mb"]
        metrics[f"lake_customers_{label}"] = run["customers"]
        metrics[f"lake_months_{label}"] = run["months"]
        metrics[f"lake_transactions_{label}"] = run["transactions"]
        metrics[f"lake_seconds_{label}"] = run["seconds"]
    metrics["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs.values())
    with tempfile.TemporaryDirectory(prefix="rongshu-bench-sim-") as tmp:
        env = {**production_env(), "RONGSHU_DATA_DIR": tmp}
        loaded = run_child(__file__, "sqlite", env, quick)
    metrics["transactions_per_s_load"] = loaded["transactions_per_s_load_sqlite"]
    metrics.update(loaded)
    metrics["reproducible"] = reproducible()
    report("simulation", metrics, quick=quick)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
