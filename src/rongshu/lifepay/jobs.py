"""End-of-day work: confirmations and re-queries, auto-pay on due dates (with retries),
reminders, reconciliation with every biller, and net settlement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rongshu.kernel.eod import eod_job


@eod_job("lifepay.autopay", order=30)
def autopay(business_date: dt.date) -> dict[str, Any]:
    from rongshu.lifepay import services

    callbacks = services.do_process_callbacks()
    requeried = services.do_requery_pending()
    result = services.do_run_autopay(business_date)
    reminders = services.do_send_reminders(business_date)
    return {
        "autopay": result,
        "callbacks": callbacks,
        "requeried": requeried,
        "reminders": reminders,
    }


@eod_job("lifepay.reconcile_and_settle", order=60)
def reconcile_and_settle(business_date: dt.date) -> dict[str, Any]:
    from rongshu.lifepay import services

    services.do_process_callbacks()
    services.do_requery_pending()
    runs = services.do_reconcile_day(business_date)
    settled = services.do_settle(business_date)
    return {
        "reconciled": len(runs),
        "breaks": sum(r.breaks for r in runs),
        "settlements": len(settled),
    }
