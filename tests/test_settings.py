"""Settings come from the environment and refuse unsafe production configurations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rongshu.kernel.observability import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RONGSHU_", "DEBUG", "DATABASE_URL"))
    }
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import rongshu.settings as s; print(s.DATABASES['default']['ENGINE'])",
        ],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    result = _load_settings(DEBUG="0", RONGSHU_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "RONGSHU_SECRET_KEY must be set" in result.stderr


def test_production_needs_field_keys(tmp_path: Path) -> None:
    result = _load_settings(DEBUG="0", RONGSHU_SECRET_KEY="x" * 50, RONGSHU_DATA_DIR=str(tmp_path))
    assert result.returncode != 0 and "RONGSHU_FIELD_KEYS" in result.stderr


def test_production_with_secrets_loads(tmp_path: Path) -> None:
    result = _load_settings(
        DEBUG="0",
        RONGSHU_SECRET_KEY="x" * 50,
        RONGSHU_DATA_DIR=str(tmp_path),
        RONGSHU_FIELD_KEYS="cm9uZ3NodS10ZXN0LWZpZWxkLWtleS0wMDAwMDAwMDA=",
    )
    assert result.returncode == 0, result.stderr


def test_database_url_selects_postgresql(tmp_path: Path) -> None:
    result = _load_settings(
        DATABASE_URL="postgres://u@127.0.0.1:5/db", RONGSHU_DATA_DIR=str(tmp_path)
    )
    assert result.stdout.strip() == "django.db.backends.postgresql"
    assert _load_settings(RONGSHU_DATA_DIR=str(tmp_path)).stdout.strip().endswith("sqlite3")


def test_bad_boolean_is_refused(tmp_path: Path) -> None:
    result = _load_settings(DEBUG="maybe", RONGSHU_DATA_DIR=str(tmp_path))
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode() -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


def test_json_logs_carry_the_request_id() -> None:
    import json
    import logging

    from rongshu.kernel.observability import RequestIdFilter, request_id_var

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.customer = "c1"
    token = request_id_var.set("req-123456")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello world" and line["request_id"] == "req-123456"
    assert line["customer"] == "c1" and line["level"] == "INFO"
