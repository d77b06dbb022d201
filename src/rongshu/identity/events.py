"""Identity events (recorded in the outbox; other domains react to them)."""

from __future__ import annotations

from dataclasses import dataclass

from rongshu.kernel.outbox import DomainEvent


@dataclass(frozen=True)
class ConsentGranted(DomainEvent):
    event_type = "identity.ConsentGranted"
    customer_id: str
    purpose: str
    notice_version: str
    at: str


@dataclass(frozen=True)
class ConsentWithdrawn(DomainEvent):
    """Later domains must stop the purpose's processing for this customer."""

    event_type = "identity.ConsentWithdrawn"
    customer_id: str
    purpose: str
    notice_version: str
    at: str


@dataclass(frozen=True)
class ApprovalDecided(DomainEvent):
    """A four-eyes request was approved or rejected; the owning domain carries it out."""

    event_type = "identity.ApprovalDecided"
    approval_id: str
    action: str
    object_type: str
    object_id: str
    approved: bool
    details: dict[str, object]


@dataclass(frozen=True)
class CustomerRegistered(DomainEvent):
    event_type = "identity.CustomerRegistered"
    customer_id: str
    at: str
