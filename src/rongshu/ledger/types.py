"""Values crossing the ledger's boundary (frozen dataclasses)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

MAX_BATCH = 8190

# Account statuses (``Account.status``) and the names a four-eyes unfreeze travels under: the
# approval's action (identity's ``Action.ACCOUNT_UNFREEZE``) and object type.
STATUS_OPEN = "open"
STATUS_CLOSED = "closed"
FROZEN_STATUSES = frozenset({"debit_frozen", "frozen"})
UNFREEZE_ACTION = "account.unfreeze"
ACCOUNT_OBJECT_TYPE = "ledger.account"


@dataclass(frozen=True)
class TransferIn:
    """One transfer to create (TigerBeetle's ``Transfer`` event).

    ``kind`` is ``single``, ``pending``, ``post`` or ``void``. A post or void names the hold in
    ``pending_id`` and may leave the accounts (and for a void, the amount) as ``None`` to take
    them from the hold; a post with ``amount=None`` posts the whole pending amount. ``linked``
    chains this transfer with the next one: all of a chain is applied or none of it.
    """

    transfer_id: uuid.UUID
    debit_account: uuid.UUID | None
    credit_account: uuid.UUID | None
    amount: int | None
    currency: str
    code: str
    kind: str = "single"
    pending_id: uuid.UUID | None = None
    timeout: int = 0
    linked: bool = False
    reference: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransferOut:
    transfer_id: uuid.UUID
    debit_account: uuid.UUID
    credit_account: uuid.UUID
    amount: int
    currency: str
    kind: str
    linked: bool
    pending_id: uuid.UUID | None
    timeout: int
    code: str
    reference: str
    metadata: dict[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True)
class TransferResult:
    """The answer for one item: ``created``, ``exists`` or an error code."""

    index: int
    transfer_id: uuid.UUID
    result: str
    transfer: TransferOut | None = None

    @property
    def ok(self) -> bool:
        return self.result in ("created", "exists")


@dataclass(frozen=True, slots=True)
class AccountOwner:
    """Who holds an account, read without its balances (for checks on a hot path)."""

    public_id: uuid.UUID
    owner_type: str
    owner_id: str
    currency: str
    name: str


@dataclass(frozen=True)
class AccountView:
    public_id: uuid.UUID
    code: str | None
    name: str
    owner_type: str
    owner_id: str
    currency: str
    kind: str
    product_code: str
    status: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    overdraft_limit: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    balance: int  # posted, natural sign
    available: int  # posted less holds, natural sign
    created_at: dt.datetime


@dataclass(frozen=True)
class StatementLine:
    transfer_id: uuid.UUID
    created_at: dt.datetime
    kind: str
    code: str
    reference: str
    counterparty: uuid.UUID
    debit: int
    credit: int
    balance: int  # running posted balance after this line, natural sign


@dataclass(frozen=True)
class Statement:
    account: AccountView
    lines: list[StatementLine]
    opening_balance: int
    closing_balance: int
    next_cursor: int | None


@dataclass(frozen=True)
class TrialBalanceRow:
    currency: str
    kind: str
    debits: int
    credits: int


@dataclass(frozen=True)
class TrialBalance:
    rows: list[TrialBalanceRow]
    # currency → Σ debits − Σ credits over every account; zero when the books balance.
    difference: dict[str, int]

    @property
    def balanced(self) -> bool:
        return all(v == 0 for v in self.difference.values())
