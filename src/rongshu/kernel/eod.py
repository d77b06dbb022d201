"""End of day: run the registered jobs for the current business date, then advance it.

Domains register jobs with :func:`eod_job` (interest accrual, hold expiry, auto-pay …). Each
job runs once per business date (an ``EodRun`` row records it), so a crashed EOD can simply be
run again: finished jobs are skipped, the failed one is retried, and the date moves only after
every job has succeeded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from rongshu.kernel import clock
from rongshu.kernel.models import EodRun

logger = logging.getLogger(__name__)

EodJob = Callable[[dt.date], dict[str, Any] | None]


@dataclass(frozen=True)
class _Registered:
    name: str
    order: int
    func: EodJob


_jobs: dict[str, _Registered] = {}


def eod_job(name: str, *, order: int = 100) -> Callable[[EodJob], EodJob]:
    """Register ``func(business_date) -> detail`` as an end-of-day job (lower order first)."""

    def register(func: EodJob) -> EodJob:
        _jobs[name] = _Registered(name, order, func)
        return func

    return register


def list_eod_jobs() -> list[str]:
    return [job.name for job in sorted(_jobs.values(), key=lambda j: (j.order, j.name))]


@dataclass(frozen=True)
class EodResult:
    business_date: dt.date
    next_business_date: dt.date
    ran: list[str]
    skipped: list[str]


class EodFailed(RuntimeError):
    pass


def do_run_eod(progress: Callable[[str], None] | None = None) -> EodResult:
    """Close the current business date and open the next calendar day."""
    say = progress or (lambda _msg: None)
    business_date = clock.get_business_date()
    ran: list[str] = []
    skipped: list[str] = []
    for name in list_eod_jobs():
        job = _jobs[name]
        run, _ = EodRun.objects.get_or_create(
            business_date=business_date, job=name, defaults={"started_at": clock.now()}
        )
        if run.status == "done":
            skipped.append(name)
            say(f"  {name}: already done for {business_date}")
            continue
        say(f"  {name} …")
        run.started_at = clock.now()
        try:
            with transaction.atomic():
                detail = job.func(business_date) or {}
                run.status = "done"
                run.detail = detail
                run.finished_at = clock.now()
                run.save()
        except Exception as exc:
            logger.exception("EOD job %s failed for %s", name, business_date)
            EodRun.objects.filter(pk=run.pk).update(
                status="failed", detail={"error": f"{type(exc).__name__}: {exc}"}
            )
            raise EodFailed(f"EOD job {name} failed for {business_date}: {exc}") from exc
        ran.append(name)
        say(f"  {name}: {detail}")
    next_date = business_date + dt.timedelta(days=1)
    clock.do_set_business_date(next_date)
    return EodResult(business_date, next_date, ran, skipped)


@eod_job("kernel.purge_idempotency", order=900)
def _purge_idempotency(business_date: dt.date) -> dict[str, Any]:
    from rongshu.kernel.idempotency import purge_idempotency_records

    return {"purged": purge_idempotency_records()}


@eod_job("kernel.dispatch_outbox", order=950)
def _dispatch_outbox(business_date: dt.date) -> dict[str, Any]:
    from rongshu.kernel.outbox import dispatch_pending

    delivered, failed = dispatch_pending(limit=100_000)
    return {"delivered": delivered, "failed": failed}
