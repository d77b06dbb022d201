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
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, parse_args, report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_until_serving(command: list[str], cwd: Path, env: dict[str, str], port: int) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = started + 1800
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/health", timeout=2
                ) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("never served")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


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
