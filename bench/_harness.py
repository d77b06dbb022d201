"""Shared plumbing for benchmarks: ``bench/<name>.py [--quick]``.

Each benchmark builds a flat ``{metric: value}`` dict, then calls :func:`report`, which prints a
readable table and writes ``bench/results/<name>.json`` with the metrics, the machine and the
exact command. Ratios against a baseline measured in the same run are preferred to absolute
figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    return parser.parse_args(argv)


def setup_django() -> None:
    """Configure Django with rongshu's settings (for benchmarks that use the ORM)."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rongshu.settings")
    import django

    django.setup()


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        **_cpu_model(),
    }


def _cpu_model() -> dict[str, str]:
    """The CPU as /proc/cpuinfo names it (Linux): runs on the same code can differ by host
    (docs/decisions/0006, tenth addendum), and this says which host a result came from."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    first = {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in text.split("\n\n")[0].splitlines())
    }
    model = first.get("model name", "")
    if "cpu family" in first:
        model += f" (family {first['cpu family']}, model {first.get('model', '?')})"
    return {"cpu_model": model, "cpu_cache": first.get("cache size", "")}


def cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) ticks of all CPUs so far, from /proc/stat (None: not on Linux): on a
    virtual machine, the time the hypervisor gave to other guests."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks[:8])


def timed(func: Callable[[], Any], repeat: int = 1) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        out.append(time.perf_counter() - started)
    return out


def percentile(samples: list[float], pct: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def report(name: str, metrics: dict[str, Any], *, quick: bool) -> Path:
    """Print the metrics as a table and write ``bench/results/<name>.json``."""
    width = max((len(k) for k in metrics), default=10)
    print(f"\n{name} ({'quick' if quick else 'full'} run)")
    print("-" * (width + 20))
    for key, value in metrics.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown:>16}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "quick": quick,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "metrics": metrics,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path


# ------------------------------------------------------------------ per-database child runs
def run_child(script: str, backend: str, env: dict[str, str], quick: bool) -> dict[str, Any]:
    """Run ``script --child BACKEND [--quick]`` in a fresh process; it prints one line
    ``METRICS {json}`` with its figures."""
    command = [sys.executable, script, "--child", backend] + (["--quick"] if quick else [])
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:], file=sys.stderr)
        raise RuntimeError(f"the {backend} benchmark failed")
    line = [x for x in done.stdout.splitlines() if x.startswith("METRICS ")][-1]
    return dict(json.loads(line[len("METRICS ") :]))


def postgres_url() -> str | None:
    """``DATABASE_URL`` when it names PostgreSQL, else a throwaway server from scripts/pg.sh
    (None when none can start: the caller skips its PostgreSQL figures)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            [str(ROOT / "scripts" / "pg.sh")], capture_output=True, text=True, check=True
        )
        return out.stdout.strip().splitlines()[-1]
    return None


def fresh_database(url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``url``; returns its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", url)


def production_env() -> dict[str, str]:
    """This process's environment without DATABASE_URL, with production settings (DEBUG=0:
    no per-query debug logging) and throwaway keys."""
    import uuid

    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DEBUG="0",
        RONGSHU_SECRET_KEY="bench-" + uuid.uuid4().hex,
        RONGSHU_FIELD_KEYS=Fernet.generate_key().decode(),
    )
    return env


def run_on_both_databases(script: str, name: str, quick: bool) -> tuple[dict[str, Any], str | None]:
    """Run ``script``'s child on a fresh SQLite file and, when a server is available, on a
    fresh PostgreSQL database; returns the merged metrics and the server URL (or None)."""
    import tempfile

    base_env = production_env()
    metrics: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=f"rongshu-bench-{name}-") as tmp:
        metrics.update(run_child(script, "sqlite", {**base_env, "RONGSHU_DATA_DIR": tmp}, quick))
    pg = postgres_url()
    if pg is None:
        print("PostgreSQL not available: its figures are skipped", file=sys.stderr)
    else:
        url = fresh_database(pg, f"rongshu_bench_{name}")
        metrics.update(run_child(script, "postgres", {**base_env, "DATABASE_URL": url}, quick))
    return metrics, pg


def child_main(child: Callable[[str, bool], dict[str, Any]]) -> bool:
    """When this process is a ``--child BACKEND`` run: run ``child`` and print its metrics
    line; returns whether it was one."""
    if "--child" not in sys.argv:
        return False
    backend = sys.argv[sys.argv.index("--child") + 1]
    print("METRICS " + json.dumps(child(backend, "--quick" in sys.argv)))
    return True


# ------------------------------------------------------------------ a server under test
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(
    command: list[str],
    port: int,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 1800.0,
) -> Iterator[float]:
    """Start ``command`` (a server on loopback ``port``) and yield the seconds until its
    /api/v1/health answered 200; on leaving, its whole process group is stopped. A command
    that exits or never serves raises, with the tail of what it wrote to stderr."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    tail = log.read()[-2000:]
                    raise RuntimeError(f"{command} exited with {process.returncode}: {tail!r}")
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                    ) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.perf_counter() - started > timeout:
                        raise TimeoutError(f"{command} never served") from None
                    time.sleep(0.2)
            yield time.perf_counter() - started
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
