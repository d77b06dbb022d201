"""Ledger benchmark: single-transfer commits (1 and 8 clients), batches of 8,190, latency,
scaling with the number of accounts, and PostgreSQL's own pgbench on the same server.

    .venv/bin/python bench/ledger.py [--quick]

Each database runs in a child process on a fresh database: SQLite in a temporary folder (WAL,
synchronous=NORMAL, the settings' defaults) and PostgreSQL on ``DATABASE_URL`` — or, when that
is not set, on a throwaway server started with ``scripts/pg.sh`` (skipped if none starts).
Django runs with DEBUG=0 (as in production: no per-query debug logging) and throwaway keys.
Outbox dispatch after commit is switched off (``RONGSHU_OUTBOX_DISPATCH_ON_COMMIT=0``, the
deployment with a separate dispatcher); each transfer still writes its outbox row.

    single_transfers_per_s_{sqlite,postgres}_{1c,8c}  one transfer per transaction, committed
    batch_transfers_per_s_{sqlite,postgres}            batches of 8,190 transfers per transaction
    batch_rate_{p50,min,max}_{db}, batch_count_{db},   the spread of the batches' own rates,
    batch_wall_s_{db}                                  how many were timed and their wall time
    batch_cpu_us_per_transfer_{client,server}_{db}     CPU per batch transfer (client: this
                                                       process, which for SQLite includes the
                                                       database engine; server: the backend)
    p50_ms, p99_ms                                     one-transfer commit latency, 1 client
                                                       (PostgreSQL when present, else SQLite)
    pgbench_tps_8c, pg_vs_pgbench_ratio_8c             pgbench -c 8 (TPC-B-like) and our ratio
    scaling_{db}_{1k,10k,100k}_{single,batch}_per_s    the same at 1k, 10k, 100k accounts

    cpu_us_per_transfer_{client,server}_{db}          CPU time per committed single transfer,
                                                       1 client (server: the backend, from
                                                       /proc; PostgreSQL on this host only)
    pgbench_cpu_us_per_tx_{client,server}             the same for pgbench -c 1 transactions
    cpu_vs_pgbench_ratio                               pgbench's CPU per transaction ÷ ours
                                                       (client + server): a guide that does not
                                                       swing with the box's load as rates do

The batch phase: one warm-up batch (not counted), then a checkpoint (PostgreSQL ``CHECKPOINT``,
SQLite ``PRAGMA wal_checkpoint(TRUNCATE)``) so that no write-back of the set-up falls into the
timed part by chance, then at least 30 batches *and* at least 6 s of batch wall time (quick: 3
batches). Each batch is one transaction, timed from before ``do_create_transfers`` to after its
commit returns; its 8,190 items are generated outside the timing. The headline is all timed
transfers ÷ the sum of the batches' walls — slow batches (a checkpoint, a WAL flush) count; the
per-batch p50/min/max rates show the spread. A PostgreSQL checkpoint needs a superuser or
``pg_checkpoint``; without it the phase runs anyway and says so (``batch_checkpoint_postgres``).

``RONGSHU_BENCH_PHASES=batch`` (comma-separated: ``single``, ``multi``, ``batch``, ``scaling``,
``pgbench``, ``cpu``) runs only those phases and writes ``bench/results/ledger-partial.json``
instead.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    child_main,
    fresh_database,
    parse_args,
    percentile,
    report,
    run_on_both_databases,
    setup_django,
)

PGBIN = Path("/usr/lib/postgresql/15/bin")
BATCH = 8190
ALL_PHASES = ("single", "multi", "batch", "scaling", "pgbench", "cpu")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _phases() -> set[str]:
    chosen = os.environ.get("RONGSHU_BENCH_PHASES", "").strip()
    return {p.strip() for p in chosen.split(",") if p.strip()} if chosen else set(ALL_PHASES)


# ====================================================================== child: one database
def _child(backend: str, quick: bool) -> dict[str, Any]:
    os.environ["RONGSHU_OUTBOX_DISPATCH_ON_COMMIT"] = "0"
    os.environ.setdefault("RONGSHU_LOG_LEVEL", "WARNING")
    setup_django()
    from django.core.management import call_command
    from django.db import DatabaseError, connections, transaction

    from rongshu.kernel import clock
    from rongshu.kernel.ids import new_id
    from rongshu.ledger import queries, services
    from rongshu.ledger.models import Account
    from rongshu.ledger.types import TransferIn

    call_command("migrate", verbosity=0)
    seconds = 2.0 if quick else 10.0
    metrics: dict[str, Any] = {}

    def open_accounts(n: int) -> list[uuid.UUID]:
        now = clock.now()
        rows = [
            Account(
                name=f"bench {i}",
                owner_type="customer",
                owner_id=f"b{i}",
                currency="CNY",
                kind="liability",
                debits_must_not_exceed_credits=True,
                created_at=now,
            )
            for i in range(n)
        ]
        Account.objects.bulk_create(rows, batch_size=5000)
        ids = list(
            Account.objects.filter(owner_id__startswith="b")
            .order_by("-pk")
            .values_list("public_id", flat=True)[:n]
        )
        bank = services.do_create_account(
            name="bench funding", currency="CNY", kind="asset", owner_type="bank"
        ).public_id
        for start in range(0, n, BATCH):
            chunk = ids[start : start + BATCH]
            services.do_create_transfers(
                [TransferIn(uuid.uuid4(), bank, a, 10**12, "CNY", "fund") for a in chunk]
            )
        return ids

    def one(ids: list[uuid.UUID], rnd: random.Random) -> TransferIn:
        d, c = rnd.sample(ids, 2)
        # Transfer ids are UUIDv7 (time-ordered), as rongshu's clients generate them.
        return TransferIn(new_id(), d, c, rnd.randint(1, 10_000), "CNY", "bench")

    def single_loop(ids: list[uuid.UUID], duration: float, seed: int) -> list[float]:
        rnd = random.Random(seed)
        latencies: list[float] = []
        end = time.perf_counter() + duration
        while time.perf_counter() < end:
            item = one(ids, rnd)
            started = time.perf_counter()
            with transaction.atomic():
                result = services.do_create_transfers([item])[0]
            latencies.append(time.perf_counter() - started)
            assert result.result == "created", result.result
        return latencies

    def single_rate(ids: list[uuid.UUID], duration: float) -> tuple[float, list[float]]:
        started = time.perf_counter()
        lat = single_loop(ids, duration, 1)
        return len(lat) / (time.perf_counter() - started), lat

    def multi_rate(ids: list[uuid.UUID], clients: int, duration: float) -> float:
        connections.close_all()
        out = Path(tempfile.mkdtemp(prefix="rongshu-bench-ledger-"))
        pids = []
        for k in range(clients):
            pid = os.fork()
            if pid == 0:  # a client
                code = 0
                try:
                    lat = single_loop(ids, duration, 100 + k)
                    (out / f"{k}").write_text(json.dumps([len(lat), sum(lat)]))
                except BaseException:
                    import traceback

                    traceback.print_exc()
                    code = 1
                finally:
                    connections.close_all()
                    os._exit(code)
            pids.append(pid)
        started = time.perf_counter()
        failed = 0
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            failed += status != 0
        wall = time.perf_counter() - started
        if failed:
            raise RuntimeError(f"{failed} benchmark clients failed")
        total = sum(json.loads((out / f"{k}").read_text())[0] for k in range(clients))
        shutil.rmtree(out, ignore_errors=True)
        return total / max(wall, duration)

    def checkpoint() -> None:
        """Start the timed phase with no dirty pages or WAL left by the set-up (otherwise a
        checkpoint of the set-up's writes lands inside the phase, or not, by chance)."""
        with connections["default"].cursor() as cursor:
            if backend_name == "postgres":
                try:
                    cursor.execute("CHECKPOINT")  # superuser or pg_checkpoint (PG 15+)
                except DatabaseError:  # not permitted here: measure without it
                    metrics["batch_checkpoint_postgres"] = "not permitted"
            else:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def timed_batch(items: list[TransferIn]) -> float:
        started = time.perf_counter()
        with transaction.atomic():
            results = services.do_create_transfers(items)
        wall = time.perf_counter() - started  # to the durable commit
        assert all(r.result == "created" for r in results)
        return wall

    def batch_rate(ids: list[uuid.UUID], batches: int) -> float:
        """Scaling phase: a few batches after one uncounted warm-up batch."""
        rnd = random.Random(7)
        timed_batch([one(ids, rnd) for _ in range(BATCH)])
        total = sum(timed_batch([one(ids, rnd) for _ in range(BATCH)]) for _ in range(batches))
        return batches * BATCH / total

    def batch_phase(ids: list[uuid.UUID], min_batches: int, min_seconds: float) -> None:
        """The headline batch figure (see the module docstring): one uncounted warm-up batch,
        a checkpoint, then at least ``min_batches`` batches and at least ``min_seconds`` of
        batch wall time; rate = all transfers ÷ all walls (slow batches count)."""
        rnd = random.Random(7)
        timed_batch([one(ids, rnd) for _ in range(BATCH)])  # warm-up: caches, plans, lz4 probe
        checkpoint()
        backend_pid = _backend_pid(connections["default"]) if backend_name == "postgres" else None
        walls: list[float] = []
        client = 0.0
        server0 = _proc_cpu(backend_pid) if backend_pid else None
        while len(walls) < min_batches or sum(walls) < min_seconds:
            items = [one(ids, rnd) for _ in range(BATCH)]  # not timed
            cpu0 = time.process_time()
            walls.append(timed_batch(items))
            client += time.process_time() - cpu0
        server1 = _proc_cpu(backend_pid) if backend_pid else None
        n = len(walls) * BATCH
        rates = [BATCH / w for w in walls]
        key = backend_name
        metrics[f"batch_transfers_per_s_{key}"] = round(n / sum(walls), 1)
        metrics[f"batch_rate_p50_{key}"] = round(percentile(rates, 50), 1)
        metrics[f"batch_rate_min_{key}"] = round(min(rates), 1)
        metrics[f"batch_rate_max_{key}"] = round(max(rates), 1)
        metrics[f"batch_count_{key}"] = len(walls)
        metrics[f"batch_wall_s_{key}"] = round(sum(walls), 2)
        metrics[f"batch_cpu_us_per_transfer_client_{key}"] = round(client / n * 1e6, 2)
        if server0 is not None and server1 is not None:
            metrics[f"batch_cpu_us_per_transfer_server_{key}"] = round(
                (server1 - server0) / n * 1e6, 2
            )

    def cpu_per_transfer(ids: list[uuid.UUID], n: int) -> None:
        """Client and server CPU time per single transfer (1 client, after a warm-up)."""
        rnd = random.Random(11)
        items = [one(ids, rnd) for _ in range(n + 200)]
        for item in items[:200]:
            with transaction.atomic():
                services.do_create_transfers([item])
        backend = _backend_pid(connections["default"]) if backend_name == "postgres" else None
        server0 = _proc_cpu(backend) if backend else None
        client0 = time.process_time()
        for item in items[200:]:
            with transaction.atomic():
                services.do_create_transfers([item])
        client = time.process_time() - client0
        metrics[f"cpu_us_per_transfer_client_{backend_name}"] = round(client / n * 1e6, 1)
        if backend and server0 is not None:
            server1 = _proc_cpu(backend)
            if server1 is not None:
                metrics["cpu_us_per_transfer_server_postgres"] = round(
                    (server1 - server0) / n * 1e6, 1
                )

    backend_name = backend
    phases = _phases()
    ids = open_accounts(1000)
    if "single" in phases:
        rate, lat = single_rate(ids, seconds)
        metrics[f"single_transfers_per_s_{backend}_1c"] = round(rate, 1)
        metrics[f"p50_ms_{backend}"] = round(percentile(lat, 50) * 1000, 3)
        metrics[f"p99_ms_{backend}"] = round(percentile(lat, 99) * 1000, 3)
    if "multi" in phases:
        metrics[f"single_transfers_per_s_{backend}_8c"] = round(multi_rate(ids, 8, seconds), 1)
    if "batch" in phases:
        batch_phase(ids, 3 if quick else 30, 1.0 if quick else 6.0)
    scales = [(1_000, "1k"), (10_000, "10k")] + ([] if quick else [(100_000, "100k")])
    if "scaling" not in phases:
        scales = []
    have = 1000
    for size, label in scales:
        if size > have:
            ids = ids + open_accounts(size - have)
            have = size
        rate, _ = single_rate(ids, seconds / 2)
        metrics[f"scaling_{backend}_{label}_single_per_s"] = round(rate, 1)
        metrics[f"scaling_{backend}_{label}_batch_per_s"] = round(batch_rate(ids, 2), 1)
    if "cpu" in phases:
        cpu_per_transfer(ids, 1000 if quick else 5000)
    tb = queries.get_trial_balance()
    assert tb.balanced, tb.difference
    metrics[f"transfers_total_{backend}"] = _count_transfers()
    return metrics


def _count_transfers() -> int:
    from rongshu.ledger.models import Transfer

    return Transfer.objects.count()


def _backend_pid(db: Any) -> int | None:
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    return pid if _proc_cpu(pid) is not None else None  # a server on another host: none


def _proc_stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _proc_cpu(pid: int, *, children: bool = False) -> float | None:
    """User + system CPU seconds of a process (with ``children``: of its exited children)."""
    fields = _proc_stat(pid)
    if fields is None:
        return None
    at = 13 if children else 11  # utime, stime; cutime, cstime
    return (int(fields[at]) + int(fields[at + 1])) / CLOCK_TICKS


# ====================================================================== parent: orchestration
def _pgbench_cpu(url: str, transactions: int) -> tuple[float, float] | None:
    """pgbench -c 1 -t N: client CPU per transaction (its rusage) and server CPU (the
    postmaster's exited children, i.e. pgbench's backend, read from /proc)."""
    import resource

    import psycopg

    if not (PGBIN / "pgbench").exists():
        return None
    bench_url = fresh_database(url, "rongshu_pgbench")
    subprocess.run([str(PGBIN / "pgbench"), "-i", "-q", bench_url], capture_output=True, check=True)
    with psycopg.connect(bench_url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()
    fields = _proc_stat(int(backend[0])) if backend else None
    if fields is None:
        return None
    postmaster = int(fields[1])  # the backend's parent
    server0 = _proc_cpu(postmaster, children=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [str(PGBIN / "pgbench"), "-c", "1", "-t", str(transactions), bench_url],
        capture_output=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(0.5)  # the backend exits and is reaped by the postmaster
    server1 = _proc_cpu(postmaster, children=True)
    if server0 is None or server1 is None:
        return None
    client = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return client / transactions * 1e6, (server1 - server0) / transactions * 1e6


def _pgbench(url: str, seconds: int) -> float | None:
    if not (PGBIN / "pgbench").exists():
        return None
    bench_url = fresh_database(url, "rongshu_pgbench")
    subprocess.run([str(PGBIN / "pgbench"), "-i", "-q", bench_url], capture_output=True, check=True)
    done = subprocess.run(
        [str(PGBIN / "pgbench"), "-c", "8", "-j", "8", "-T", str(seconds), bench_url],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"tps = ([0-9.]+)", done.stdout)
    return float(match.group(1)) if match else None


def main() -> None:
    if child_main(_child):
        return
    args = parse_args(__doc__ or "ledger benchmark")
    started = time.perf_counter()
    metrics, pg = run_on_both_databases(__file__, "ledger", args.quick)
    phases = _phases()
    if pg is not None and "pgbench" in phases and "multi" in phases:
        tps = _pgbench(pg, 5 if args.quick else 30)
        if tps is not None:
            metrics["pgbench_tps_8c"] = round(tps, 1)
            metrics["pg_vs_pgbench_ratio_8c"] = round(
                metrics["single_transfers_per_s_postgres_8c"] / tps, 3
            )
    if pg is not None and "cpu" in phases:
        cpu = _pgbench_cpu(pg, 1000 if args.quick else 5000)
        ours = (
            metrics.get("cpu_us_per_transfer_client_postgres"),
            metrics.get("cpu_us_per_transfer_server_postgres"),
        )
        if cpu is not None:
            metrics["pgbench_cpu_us_per_tx_client"] = round(cpu[0], 1)
            metrics["pgbench_cpu_us_per_tx_server"] = round(cpu[1], 1)
            if ours[0] is not None and ours[1] is not None:
                metrics["cpu_vs_pgbench_ratio"] = round(sum(cpu) / (ours[0] + ours[1]), 3)
    main_db = "postgres" if pg is not None else "sqlite"
    if f"p50_ms_{main_db}" in metrics:
        metrics["p50_ms"] = metrics[f"p50_ms_{main_db}"]
        metrics["p99_ms"] = metrics[f"p99_ms_{main_db}"]
        metrics["latency_database"] = main_db
    metrics["wall_s"] = round(time.perf_counter() - started, 1)
    partial = phases != set(ALL_PHASES)
    report("ledger-partial" if partial else "ledger", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
