"""Demo step: the insight lake and build — the demo's OLTP data (customers, accounts, ledger
transfers, month-end balances, outbox events) exported to the lake under the data directory,
then the DuckDB build, so the console's segment pages and the 360° profile have members.

The synthetic customers answer the profiling-consent question once, the way the generator's
lake has them answer it (eight in ten agree, by a stable hash of the customer id); without an
answer nobody would be profiled. Idempotent: a second run records no consent, re-exports the
same days (each day's file is replaced) and the build finds memberships and stages in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from rongshu.identity import queries as identity_queries
from rongshu.identity import services as identity
from rongshu.insight import services

FIRST_DAY = dt.date(2000, 1, 1)  # every run re-exports the whole (small) demo history


def _agrees(customer_id: str) -> bool:
    return hashlib.sha256(customer_id.encode()).digest()[0] % 10 < 8


def load_insight_demo() -> str:
    customers = list(identity_queries.export_customers())
    consented = 0
    if not any(c["profiling_consent"] for c in customers):
        consented = identity.do_grant_consents(
            [str(c["customer_id"]) for c in customers if _agrees(str(c["customer_id"]))],
            "profiling",
        )
    lake = services.lake_dir()
    counts = services.do_export(lake, since=FIRST_DAY)
    summary = services.do_build(lake=lake)
    return (
        f"{consented:,} profiling consents recorded; {counts['customers']:,} customers, "
        f"{counts['transactions']:,} transaction rows, {counts['balances']:,} month-end "
        f"balances exported to {lake}; {summary.customers:,} profiles, {summary.segments} "
        f"segments ({summary.entered:,} memberships opened) as of {summary.as_of}"
    )
