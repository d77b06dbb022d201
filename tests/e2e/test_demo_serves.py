"""`rongshu demo` really serves: home page in both languages, health, OpenAPI, static files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

RONGSHU = Path(sys.executable).with_name("rongshu")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, language: str = "zh-CN") -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept-Language": language})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(RONGSHU_DATA_DIR=str(tmp_path_factory.mktemp("data")), PORT=str(port))
    log_path = tmp_path_factory.mktemp("log") / "demo.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(RONGSHU), "demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # a cold cache: the assistant encodes its training set
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"rongshu demo exited early:\n{log_path.read_text()}")
            try:
                if _get(base + "/api/v1/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("rongshu demo did not serve within 240 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_home_page_in_both_languages(served: str) -> None:
    status, content_type, zh = _get(served + "/")
    assert status == 200 and content_type.startswith("text/html")
    assert "欢迎来到榕树" in zh
    assert "Welcome to rongshu" in _get(served + "/", "en")[2]


def test_health_and_openapi(served: str) -> None:
    status, _, body = _get(served + "/api/v1/health")
    assert status == 200 and '"status": "ok"' in body
    status, _, body = _get(served + "/api/v1/openapi.json")
    assert status == 200 and '"openapi": "3.' in body


def test_static_files_and_problem_json(served: str) -> None:
    status, _, body = _get(served + "/static/vendor/htmx/htmx.min.js")
    assert status == 200 and "htmx" in body
    status, content_type, _ = _get(served + "/api/v1/no-such-thing")
    assert status == 404 and content_type == "application/problem+json"
