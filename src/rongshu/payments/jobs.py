"""Scheduled work: submit held interbank orders and drain the clearing network's inbound
messages (end of day, and ``rongshu payments process-clearing`` every few seconds); at end of
day, store ``expired`` on the dynamic QR codes not paid in time."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rongshu.kernel.eod import eod_job
from rongshu.payments.errors import ClearingDown

logger = logging.getLogger(__name__)


@eod_job("payments.process_clearing", order=50)
def process_clearing(business_date: dt.date) -> dict[str, Any]:
    from rongshu.payments.services import do_process_clearing

    try:
        return dict(do_process_clearing())
    except ClearingDown:
        logger.warning("no clearing adapter installed; nothing to process")
        return {"skipped": "no clearing adapter"}


@eod_job("payments.expire_dynamic_qrs", order=56)
def expire_dynamic_qrs(business_date: dt.date) -> dict[str, Any]:
    """Store ``expired`` on the issued dynamic QR codes that were not paid in time."""
    from rongshu.payments.dynamic_qr import do_expire_dynamic_qrs

    return {"expired": do_expire_dynamic_qrs()}
