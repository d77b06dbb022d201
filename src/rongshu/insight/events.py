"""Insight events (outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rongshu.kernel.outbox import DomainEvent


@dataclass(frozen=True)
class LifecycleStageChanged(DomainEvent):
    """For the relationship manager: a customer moved to another lifecycle stage."""

    event_type: ClassVar[str] = "insight.LifecycleStageChanged"
    customer_id: str = ""
    from_stage: str = ""
    to_stage: str = ""
    on: str = ""
