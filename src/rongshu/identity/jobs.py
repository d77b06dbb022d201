"""Identity's end-of-day jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rongshu.identity.sessions import do_purge_expired_tokens
from rongshu.kernel.eod import eod_job


@eod_job("identity.purge_expired_tokens", order=800)
def purge_expired_tokens(business_date: dt.date) -> dict[str, Any]:
    return {"purged": do_purge_expired_tokens()}
