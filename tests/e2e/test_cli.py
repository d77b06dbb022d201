"""The `rongshu` command: demo data, serve and the console script entry point."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command

from rongshu import cli
from rongshu.kernel import clock
from rongshu.kernel.audit import verify_chain
from rongshu.kernel.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_demo_loads_idempotently_without_serving(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--no-serve")
    call_command("demo", "--no-serve")
    out = capsys.readouterr().out
    assert "business date" in out and "audit log" in out
    assert "13800000001 / rongshu-demo-1" in out
    assert "demo-teller" in out and "/ rongshu-staff-1" in out
    assert AuditEntry.objects.filter(action="demo.loaded").count() == 1
    assert verify_chain().ok


def test_demo_loads_while_the_billers_are_in_maintenance(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """00:35 in Shanghai: every demo biller is in its daily maintenance window, so the demo's
    bill payment is skipped with the biller's own reason instead of failing the whole load."""
    with clock.frozen_time(dt.datetime(2026, 11, 10, 16, 35, tzinfo=dt.UTC)):
        call_command("demo", "--no-serve")
    out = capsys.readouterr().out
    assert "demo payment skipped" in out and "audit log" in out


def test_demo_serves_after_loading() -> None:
    with mock.patch("rongshu.simulation.management.commands.demo.call_command") as call:
        call_command("demo")
    assert [c.args[0] for c in call.call_args_list] == ["migrate", "serve"]


def test_serve_configures_gunicorn(capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: Any) -> None:
        app.load_config()
        seen["bind"] = app.cfg.bind
        seen["workers"] = app.cfg.workers
        seen["app"] = app.load()

    with (
        mock.patch("gunicorn.app.base.BaseApplication.run", fake_run),
        mock.patch("rongshu.kernel.management.commands.serve.call_command") as collect,
    ):
        call_command("serve", "--port", "8123", "--workers", "3")
    collect.assert_called_once_with("collectstatic", interactive=False, verbosity=0)
    assert seen["bind"] == ["127.0.0.1:8123"] and seen["workers"] == 3
    assert callable(seen["app"])
    assert "http://127.0.0.1:8123/" in capsys.readouterr().out


def test_console_script_runs_django_commands(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["check"])
    assert "no issues" in capsys.readouterr().out
