"""Ledger events, recorded in the outbox in the same transaction as the change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, ClassVar

from rongshu.kernel.outbox import DomainEvent
from rongshu.ledger.types import TransferOut


@dataclass(frozen=True)
class TransfersPosted(DomainEvent):
    """The transfers committed by one call (a batch or a single transfer), in order.

    Stored column-wise to keep an 8,190-transfer batch to one compact outbox row: ``ids``,
    ``amounts`` (minor units) and ``pending_ids`` are parallel lists; ``kinds``,
    ``debit_accounts``, ``credit_accounts``, ``currencies`` and ``codes`` are parallel lists
    of indexes into ``strings`` (``"format": 2``: a batch repeats a few accounts, one kind,
    one currency and one code thousands of times). :func:`iter_transfers` turns a payload
    back into one dict per transfer (and still reads the first format, where those five
    columns held the strings themselves).
    """

    event_type: ClassVar[str] = "ledger.TransfersPosted"
    columns: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, transfers: Sequence[TransferOut]) -> TransfersPosted:
        strings: list[str] = []
        # value → its place in strings; accounts are keyed by ``UUID.int`` (hashing a UUID
        # is a Python-level call), which no string key can equal, as no UUID equals a string
        index: dict[Any, int] = {}
        n = len(transfers)

        def encode(values: list[Any], as_text: Any = str) -> list[int]:
            distinct = dict.fromkeys(values)  # distinct values, in order of appearance
            for value in distinct:
                if value not in index:
                    index[value] = len(strings)
                    strings.append(as_text(value))
            if len(distinct) == 1:  # one kind, currency or code for the whole batch
                return [index[values[0]]] * n
            return list(map(index.__getitem__, values))

        def column(name: str) -> list[Any]:
            return list(map(attrgetter(name), transfers))

        account = _account_text
        pending = column("pending_id")
        return cls(
            columns={
                "format": 2,
                "ids": list(map(str, column("transfer_id"))),
                "amounts": column("amount"),
                "pending_ids": [str(p) if p else None for p in pending]
                if any(pending)
                else [None] * n,
                "kinds": encode(column("kind")),
                "debit_accounts": encode([t.debit_account.int for t in transfers], account),
                "credit_accounts": encode([t.credit_account.int for t in transfers], account),
                "currencies": encode(column("currency")),
                "codes": encode(column("code")),
                "strings": strings,
            }
        )

    def payload(self) -> dict[str, Any]:
        return self.columns  # fresh lists of JSON values: no deep copy needed


def _account_text(key: int) -> str:
    return str(uuid.UUID(int=key))


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
_ENCODED = ("kinds", "debit_accounts", "credit_accounts", "currencies", "codes")


def iter_transfers(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One dict per transfer of a ``ledger.TransfersPosted`` payload (either format)."""
    keys = list(_SINGULAR)
    columns = [payload[k] for k in keys]
    if payload.get("format") == 2:
        strings = payload["strings"]
        columns = [
            [strings[i] for i in column] if key in _ENCODED else column
            for key, column in zip(keys, columns, strict=True)
        ]
    for values in zip(*columns, strict=True):
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
