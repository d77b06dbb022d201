"""Values crossing the clearing adapter's boundary (frozen dataclasses)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from rongshu.kernel.money import Money

OutcomeStatus = Literal["settled", "rejected", "returned"]
Direction = Literal["DBIT", "CRDT"]


@dataclass(frozen=True)
class CreditTransferInstruction:
    """One customer credit transfer to another bank (becomes one pacs.008 transaction).

    ``instruction_id`` and ``end_to_end_id`` are ISO ``Max35Text``: at most 35 characters
    (use ``uuid.hex``, not ``str(uuid)``, which is 36). ``remittance_info`` at most 140.
    """

    instruction_id: str
    end_to_end_id: str
    amount: Money
    debtor_name: str
    debtor_account: str
    creditor_bank_code: str
    creditor_account: str
    creditor_name: str
    remittance_info: str = ""


@dataclass(frozen=True)
class AccountCheckResult:
    ok: bool
    reason_code: str | None = None  # AC01 unknown, AC04 closed, BE01 name mismatch, RC01 bank


@dataclass(frozen=True)
class ClearingOutcome:
    """What an inbound status (pacs.002) or return (pacs.004) means for one instruction.

    ``duplicate`` is True when the message adds nothing new: the same message id was already
    processed, or the instruction already reached a state this message would not change (an
    ACSC that arrives after the return it preceded). Callbacks must be idempotent anyway.
    """

    instruction_id: str
    status: OutcomeStatus
    reason_code: str | None
    message_id: str
    duplicate: bool
    network: str = ""
    end_to_end_id: str = ""
    amount: Money | None = None


# ------------------------------------------------------------------ parsed ISO 20022 messages
@dataclass(frozen=True)
class StatusItem:
    instruction_id: str
    end_to_end_id: str
    status: str  # ISO ExternalPaymentTransactionStatus1Code: ACSC, RJCT, ACSP, PDNG …
    reason_code: str | None


@dataclass(frozen=True)
class StatusReport:
    """pacs.002.001.10."""

    message_id: str
    created_at: dt.datetime
    original_message_id: str
    items: list[StatusItem]


@dataclass(frozen=True)
class ReturnItem:
    return_id: str
    instruction_id: str
    end_to_end_id: str
    amount: Money
    reason_code: str | None


@dataclass(frozen=True)
class PaymentReturn:
    """pacs.004.001.09."""

    message_id: str
    created_at: dt.datetime
    items: list[ReturnItem]


@dataclass(frozen=True)
class Entry:
    """One booked entry of a camt.053 statement or camt.054 notification."""

    entry_ref: str
    amount: Money
    direction: Direction  # seen from our account at the network: DBIT = money left us
    status: str  # BOOK, PDNG, INFO
    booked_on: dt.date | None
    end_to_end_id: str
    instruction_id: str


@dataclass(frozen=True)
class AccountReport:
    """camt.053.001.08 (statement, with balances) or camt.054.001.08 (notification)."""

    kind: Literal["camt.053", "camt.054"]
    message_id: str
    created_at: dt.datetime
    report_id: str
    account: str
    currency: str
    opening_balance: Money | None
    closing_balance: Money | None
    entries: list[Entry] = field(default_factory=list)


# ------------------------------------------------------------------ reconciliation
BreakKind = Literal["ours_only", "theirs_only", "amount_mismatch"]


@dataclass(frozen=True)
class ReconciliationBreak:
    kind: BreakKind
    end_to_end_id: str
    direction: Direction
    ours: Money | None
    theirs: Money | None


@dataclass(frozen=True)
class ReconciliationReport:
    network: str
    business_date: dt.date
    currency: str
    matched: int
    ours_count: int
    theirs_count: int
    breaks: list[ReconciliationBreak]

    @property
    def clean(self) -> bool:
        return not self.breaks
