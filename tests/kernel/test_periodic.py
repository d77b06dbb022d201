"""The periodic runner: tasks run at their turn, a failing one does not stop the others, and
only the process holding the lock runs them."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from rongshu.kernel import periodic


@pytest.fixture
def no_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(periodic, "_tasks", {})


def test_tasks_run_at_their_turn_and_a_failure_stops_nothing(no_tasks: None) -> None:
    calls: list[str] = []

    def boom() -> None:
        calls.append("boom")
        raise RuntimeError("down")

    periodic.register("a", 5.0, lambda: calls.append("a"))
    periodic.register("b", 1.0, boom)
    assert periodic.run_due(now=100.0) == ["a", "b"]
    assert periodic.run_due(now=100.5) == []
    assert periodic.run_due(now=101.0) == ["b"]
    assert periodic.run_due(now=105.0) == ["a", "b"]
    assert calls == ["a", "boom", "boom", "a", "boom"]


def test_only_the_process_holding_the_lock_runs_them(no_tasks: None, tmp_path: Path) -> None:
    lock = tmp_path / "periodic.lock"
    other = lock.open("a")  # another worker holds it
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        assert periodic.start(lock, tick_s=0.05) is False
    finally:
        other.close()  # that worker ended
    try:
        assert periodic.start(lock, tick_s=0.05) is True
        assert periodic.start(lock, tick_s=0.05) is True  # idempotent
    finally:
        periodic.stop()
    assert periodic._runner is None


def test_payments_registers_the_clearing_step() -> None:
    assert "payments.process_clearing" in periodic.tasks()
