"""The credit-bureau port (征信查询) and its simulator.

A real deployment installs an adapter for the PBoC Credit Reference Center (or a licensed
bureau) with :func:`use_bureau`; the default :class:`SimulatedBureau` answers deterministically
by the customer id: most have a record, some are thin files, some have no record, a few carry
serious delinquencies; it waits a configurable latency and can be told to time out.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Protocol


class BureauTimeout(Exception):
    pass


@dataclass(frozen=True)
class BureauReport:
    status: str  # record, thin_file, no_record, timeout
    open_loans: int = 0
    monthly_debt_service: int = 0  # fen, other lenders
    worst_dpd_24m: int = 0
    queries_3m: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CreditBureau(Protocol):
    def query(self, customer_id: uuid.UUID, *, timeout_s: float) -> BureauReport: ...


class SimulatedBureau:
    """Deterministic by id: h % 100 < 10 no record, < 20 thin file, < 25 serious delinquency."""

    def __init__(self, latency_s: float = 0.0, fail_ids: frozenset[str] = frozenset()) -> None:
        self.latency_s = latency_s
        self.fail_ids = fail_ids

    def query(self, customer_id: uuid.UUID, *, timeout_s: float) -> BureauReport:
        if str(customer_id) in self.fail_ids or self.latency_s > timeout_s:
            time.sleep(min(self.latency_s, timeout_s))
            raise BureauTimeout(f"bureau did not answer within {timeout_s}s")
        if self.latency_s:
            time.sleep(self.latency_s)
        h = int.from_bytes(hashlib.sha256(customer_id.bytes).digest()[:4], "big")
        bucket = h % 100
        if bucket < 10:
            return BureauReport("no_record")
        if bucket < 20:
            return BureauReport("thin_file", open_loans=0, queries_3m=h % 3)
        worst = 120 if bucket < 25 else (h >> 8) % 2 * 15
        return BureauReport(
            "record",
            open_loans=(h >> 4) % 4,
            monthly_debt_service=((h >> 12) % 50) * 100_00,
            worst_dpd_24m=worst,
            queries_3m=(h >> 16) % 5,
        )


_bureau: CreditBureau = SimulatedBureau()
TIMEOUT_S = 0.5


def use_bureau(bureau: CreditBureau | None) -> None:
    """Install an adapter (None: back to the simulator)."""
    global _bureau
    _bureau = bureau if bureau is not None else SimulatedBureau()


def query_bureau(customer_id: uuid.UUID) -> BureauReport:
    """Ask the bureau; a timeout is an answer (``timeout``), decided by policy as a referral."""
    try:
        return _bureau.query(customer_id, timeout_s=TIMEOUT_S)
    except BureauTimeout:
        return BureauReport("timeout")
