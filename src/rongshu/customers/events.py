"""Customer-view events (past tense), recorded in the outbox in the resolution transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rongshu.kernel.outbox import DomainEvent


@dataclass(frozen=True)
class CustomersMerged(DomainEvent):
    """``absorbed`` customer ids now live on as ``survivor`` (their ids redirect there)."""

    event_type: ClassVar[str] = "customers.CustomersMerged"
    survivor_id: str
    absorbed_ids: list[str]
    run_id: str


@dataclass(frozen=True)
class CustomerSplit(DomainEvent):
    """Records of ``customer_id`` now also form ``new_ids`` (different real people)."""

    event_type: ClassVar[str] = "customers.CustomerSplit"
    customer_id: str
    new_ids: list[str]
    run_id: str
