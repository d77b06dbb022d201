"""Types that cross the payments boundary (other domains plug rules and account look-ups in)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from rongshu.kernel.money import Money


@dataclass(frozen=True)
class PaymentCheck:
    """What a payment rule sees before funds are held (inside the order's transaction).

    ``rail`` is one of ``internal``, ``interbank``, ``qr``, ``quickpay``.
    """

    customer_id: uuid.UUID | None
    debit_account_id: uuid.UUID  # ledger account public id
    amount: Money
    rail: str
    counterparty_account_id: uuid.UUID | None  # ledger account public id (our bank)
    counterparty_bank_code: str | None  # another bank (interbank)
    counterparty_account_number: str | None
    at: dt.datetime


@dataclass(frozen=True)
class ResolvedAccount:
    """An account number of ours, resolved to its ledger account and holder."""

    account_number: str
    ledger_account_id: uuid.UUID
    holder_name: str
    customer_id: uuid.UUID | None
    currency: str
