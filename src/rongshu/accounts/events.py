"""Accounts events (outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rongshu.kernel.outbox import DomainEvent


@dataclass(frozen=True)
class AccountOpened(DomainEvent):
    event_type: ClassVar[str] = "accounts.AccountOpened"
    account_id: str = ""
    customer_id: str = ""
    account_type: int = 0
    ledger_account_id: str = ""


@dataclass(frozen=True)
class AccountClosed(DomainEvent):
    event_type: ClassVar[str] = "accounts.AccountClosed"
    account_id: str = ""
    customer_id: str = ""
    swept: int = 0
