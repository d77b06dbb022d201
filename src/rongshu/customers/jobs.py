"""The nightly data-quality check (an end-of-day job): invalid IDs, new duplicates waiting for
review, stale contacts, conflicting attributes, and the average per-customer quality score."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rongshu.kernel.eod import eod_job


@eod_job("customers.data_quality", order=80)
def data_quality(business_date: dt.date) -> dict[str, Any]:
    from rongshu.customers.services import do_check_quality

    return do_check_quality(business_date)
