"""Payment events (past tense), recorded in the outbox in the order's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rongshu.kernel.outbox import DomainEvent


@dataclass(frozen=True)
class _OrderEvent(DomainEvent):
    order_id: str
    customer_id: str | None
    rail: str
    amount_minor: int
    currency: str
    state: str
    reason_code: str | None = None


@dataclass(frozen=True)
class PaymentFundsHeld(_OrderEvent):
    event_type: ClassVar[str] = "payments.PaymentFundsHeld"


@dataclass(frozen=True)
class PaymentSubmitted(_OrderEvent):
    event_type: ClassVar[str] = "payments.PaymentSubmitted"


@dataclass(frozen=True)
class PaymentSettled(_OrderEvent):
    event_type: ClassVar[str] = "payments.PaymentSettled"


@dataclass(frozen=True)
class PaymentRejected(_OrderEvent):
    event_type: ClassVar[str] = "payments.PaymentRejected"


@dataclass(frozen=True)
class PaymentReturned(_OrderEvent):
    event_type: ClassVar[str] = "payments.PaymentReturned"


@dataclass(frozen=True)
class PaymentRefunded(_OrderEvent):
    event_type: ClassVar[str] = "payments.PaymentRefunded"


# One event per state an order is stored in (an order is stored already funds_held or settled:
# its creation is announced by that state's event; docs/decisions/0006, third addendum).
EVENTS = {
    "funds_held": PaymentFundsHeld,
    "submitted": PaymentSubmitted,
    "settled": PaymentSettled,
    "rejected": PaymentRejected,
    "returned": PaymentReturned,
}
