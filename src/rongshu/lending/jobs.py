"""Lending's end-of-day jobs: auto-debit what is due, accrue interest and penalty interest
and age arrears (DPD), then refresh the pre-approved lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rongshu.kernel.eod import eod_job


@eod_job("lending.auto_debit", order=300)
def auto_debit(business_date: dt.date) -> dict[str, Any]:
    from rongshu.lending.servicing import run_auto_debit

    return dict(run_auto_debit(business_date))


@eod_job("lending.accrual", order=310)
def accrual(business_date: dt.date) -> dict[str, Any]:
    from rongshu.lending.servicing import run_accrual

    return dict(run_accrual(business_date))


@eod_job("lending.preapproval", order=320)
def preapproval(business_date: dt.date) -> dict[str, Any]:
    from rongshu.lending.preapproval import run_preapproval

    return run_preapproval(business_date)
