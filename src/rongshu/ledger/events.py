"""Ledger events, recorded in the outbox in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rongshu.kernel.outbox import DomainEvent
from rongshu.ledger.types import TransferOut


@dataclass(frozen=True)
class TransfersPosted(DomainEvent):
    """The transfers committed by one call (a batch or a single transfer), in order.

    Stored column-wise to keep an 8,190-transfer batch to one compact outbox row: ``ids``,
    ``kinds``, ``debit_accounts``, ``credit_accounts``, ``amounts`` (minor units),
    ``currencies``, ``codes``, ``pending_ids`` are parallel lists. :func:`iter_transfers`
    turns a payload back into one dict per transfer.
    """

    event_type: ClassVar[str] = "ledger.TransfersPosted"
    columns: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, transfers: Sequence[TransferOut]) -> TransfersPosted:
        return cls(
            columns={
                "ids": [str(t.transfer_id) for t in transfers],
                "kinds": [t.kind for t in transfers],
                "debit_accounts": [str(t.debit_account) for t in transfers],
                "credit_accounts": [str(t.credit_account) for t in transfers],
                "amounts": [t.amount for t in transfers],
                "currencies": [t.currency for t in transfers],
                "codes": [t.code for t in transfers],
                "pending_ids": [str(t.pending_id) if t.pending_id else None for t in transfers],
            }
        )

    def payload(self) -> dict[str, Any]:
        return self.columns  # fresh lists of JSON values: no deep copy needed


_SINGULAR = {
    "ids": "id",
    "kinds": "kind",
    "debit_accounts": "debit_account",
    "credit_accounts": "credit_account",
    "amounts": "amount",
    "currencies": "currency",
    "codes": "code",
    "pending_ids": "pending_id",
}


def iter_transfers(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One dict per transfer of a ``ledger.TransfersPosted`` payload."""
    keys = list(_SINGULAR)
    for values in zip(*(payload[k] for k in keys), strict=True):
        yield {_SINGULAR[k]: v for k, v in zip(keys, values, strict=True)}


@dataclass(frozen=True)
class HoldsExpired(DomainEvent):
    event_type: ClassVar[str] = "ledger.HoldsExpired"
    holds: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccountStatusChanged(DomainEvent):
    event_type: ClassVar[str] = "ledger.AccountStatusChanged"
    account: str = ""
    old_status: str = ""
    new_status: str = ""
    actor: str = ""
    reason: str = ""


@dataclass(frozen=True)
class InterestSettled(DomainEvent):
    event_type: ClassVar[str] = "ledger.InterestSettled"
    business_date: str = ""
    accounts: int = 0
    total: dict[str, int] = field(default_factory=dict)
