from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rongshu.kernel import clock, eod
from rongshu.kernel.models import EodRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs():  # type: ignore[no-untyped-def]
    saved = dict(eod._jobs)
    yield eod._jobs
    eod._jobs.clear()
    eod._jobs.update(saved)


def test_eod_runs_jobs_in_order_once_per_date_and_advances(jobs) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, dt.date]] = []
    eod.eod_job("test.b", order=20)(lambda d: seen.append(("b", d)) or {"n": 1})
    eod.eod_job("test.a", order=10)(lambda d: seen.append(("a", d)) or None)
    clock.do_set_business_date(dt.date(2026, 3, 1))
    result = eod.do_run_eod()
    assert result.business_date == dt.date(2026, 3, 1)
    assert clock.get_business_date() == dt.date(2026, 3, 2)
    assert seen[:2] == [("a", dt.date(2026, 3, 1)), ("b", dt.date(2026, 3, 1))]
    assert "kernel.purge_idempotency" in result.ran
    assert EodRun.objects.get(job="test.b").detail == {"n": 1}


def test_failed_job_stops_eod_and_rerun_skips_done_jobs(jobs) -> None:  # type: ignore[no-untyped-def]
    state = {"fail": True, "a_runs": 0}

    def a(day: dt.date) -> None:
        state["a_runs"] += 1

    def b(day: dt.date) -> None:
        if state["fail"]:
            raise RuntimeError("disk full")

    eod.eod_job("test.a", order=10)(a)
    eod.eod_job("test.b", order=20)(b)
    clock.do_set_business_date(dt.date(2026, 3, 1))
    with pytest.raises(eod.EodFailed):
        eod.do_run_eod()
    assert clock.get_business_date() == dt.date(2026, 3, 1)  # not advanced
    assert EodRun.objects.get(job="test.b").status == "failed"
    state["fail"] = False
    result = eod.do_run_eod()
    assert "test.a" in result.skipped and state["a_runs"] == 1
    assert clock.get_business_date() == dt.date(2026, 3, 2)


def test_eod_command(jobs, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    clock.do_set_business_date(dt.date(2026, 3, 1))
    call_command("eod", "--days", "2")
    assert clock.get_business_date() == dt.date(2026, 3, 3)
    assert "business date is now 2026-03-03" in capsys.readouterr().out
    eod.eod_job("test.broken")(lambda d: 1 / 0)
    with pytest.raises(CommandError):
        call_command("eod")


def test_idempotency_purge_command(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("idempotency", "purge")
    assert "purged 0" in capsys.readouterr().out
