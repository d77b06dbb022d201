"""Platform set-up times: how long a newcomer waits.

Full run: clones the committed ``main`` into a temporary folder and times, from nothing,
``make test`` (install + the whole suite) and ``make demo`` until ``/api/v1/health`` answers
200; then the second ``make demo`` on the same clone (the idempotent, warm path).
``--quick``: only the warm path on this checkout (``rongshu demo`` with a fresh data folder,
migrations and demo data included) until it serves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, free_port, parse_args, report, serving


def time_until_serving(command: list[str], cwd: Path, env: dict[str, str], port: int) -> float:
    with serving(command, port, cwd=cwd, env=env) as seconds:
        return seconds


def timed_run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    args = parse_args(__doc__ or "")
    metrics: dict[str, float] = {}
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "VIRTUAL_ENV"}}
    if args.quick:
        with tempfile.TemporaryDirectory() as data_dir:
            port = free_port()
            run_env = {**env, "RONGSHU_DATA_DIR": data_dir, "PORT": str(port)}
            metrics["demo_warm_until_serving_s"] = time_until_serving(
                [str(ROOT / ".venv" / "bin" / "rongshu"), "demo"], ROOT, run_env, port
            )
    else:
        workdir = Path(tempfile.mkdtemp(prefix="rongshu-fresh-"))
        try:
            for name in ("test", "demo"):
                subprocess.run(
                    ["git", "clone", "--quiet", str(ROOT), str(workdir / name)], check=True
                )
            metrics["fresh_make_test_s"] = timed_run(["make", "test"], workdir / "test", env)
            port = free_port()
            demo_env = {**env, "PORT": str(port)}
            metrics["fresh_make_demo_until_serving_s"] = time_until_serving(
                ["make", "demo"], workdir / "demo", demo_env, port
            )
            metrics["second_make_demo_until_serving_s"] = time_until_serving(
                ["make", "demo"], workdir / "demo", demo_env, port
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    report("setup_time", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
