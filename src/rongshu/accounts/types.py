"""Values crossing the accounts boundary."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# product code → label (all demand deposits in CNY for now)
PRODUCTS = {
    "demand_deposit": _("Demand deposit"),
    "e_account_type2": _("Type II e-account"),
    "e_account_type3": _("Type III e-account"),
}
DEFAULT_PRODUCT = {1: "demand_deposit", 2: "e_account_type2", 3: "e_account_type3"}
TYPE_LABELS = {1: _("Type I"), 2: _("Type II"), 3: _("Type III")}


@dataclass(frozen=True)
class AccountSummary:
    account_id: uuid.UUID
    account_number: str
    account_type: int
    product_code: str
    product_name: str
    currency: str
    status: str  # open, frozen (by the owner), blocked (by the bank), closed
    balance: int
    available: int
    held: int
    bound_bank_code: str
    bound_account_number: str
    ledger_account_id: uuid.UUID
    opened_at: dt.datetime
    daily_limit: int | None
    daily_used: int
    yearly_limit: int | None
    yearly_used: int
    balance_cap: int | None


@dataclass(frozen=True)
class Overview:
    accounts: list[AccountSummary]
    total_cny: int
    unread: int


@dataclass(frozen=True)
class StatementFilter:
    text: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    direction: str = ""  # "", "in", "out"


@dataclass(frozen=True)
class NotificationView:
    notification_id: uuid.UUID
    kind: str
    title: str
    body: str
    account_number: str
    created_at: dt.datetime
    read: bool


@dataclass(frozen=True)
class Preferences:
    sms_kinds: list[str]
    quiet_start: dt.time | None
    quiet_end: dt.time | None


@dataclass(frozen=True)
class EStatementView:
    statement_id: uuid.UUID
    account_id: uuid.UUID
    month: dt.date
    opening_balance: int
    closing_balance: int
    generated_at: dt.datetime


@dataclass(frozen=True)
class CertificateView:
    certificate_id: uuid.UUID
    account_id: uuid.UUID
    account_number: str
    holder_name: str
    amount: int
    currency: str
    purpose: str
    state: str
    frozen_until: dt.date | None
    verification_code: str
    issued_at: dt.datetime
    released_at: dt.datetime | None
