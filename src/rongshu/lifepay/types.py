"""Values crossing the lifepay boundary (frozen dataclasses)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from rongshu.kernel.money import Money


@dataclass(frozen=True)
class CityView:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class BillerView:
    code: str
    city_code: str
    city_zh: str
    city_en: str
    item_code: str
    category: str
    name_zh: str
    name_en: str
    item_zh: str
    item_en: str
    mode: str
    partial_allowed: bool
    account_format: str
    account_hint: str
    cutoff: dt.time
    fee: Money
    adapter_type: str
    status: str
    partner_client_id: str = ""


@dataclass(frozen=True)
class Bill:
    bill_ref: str
    period: str
    amount: Money  # outstanding
    due_on: dt.date


@dataclass(frozen=True)
class Inquiry:
    biller: BillerView
    account_no: str
    holder: str  # masked
    bills: tuple[Bill, ...]


@dataclass(frozen=True)
class PayBillRequest:
    biller_code: str
    account_no: str
    debit_account_id: uuid.UUID
    amount: Money
    bill_ref: str = ""


@dataclass(frozen=True)
class BillPaymentView:
    payment_id: uuid.UUID
    customer_id: uuid.UUID
    biller: BillerView
    account_no: str
    bill_ref: str
    amount: Money
    fee: Money
    refunded: Money
    debit_account_id: uuid.UUID
    state: str
    reason_code: str
    biller_ref: str
    confirmations: int
    channel: str
    autopay: bool
    business_date: dt.date
    created_at: dt.datetime
    paid_at: dt.datetime | None


@dataclass(frozen=True)
class SavedAccountView:
    saved_id: uuid.UUID
    biller: BillerView
    account_no: str
    nickname: str
    remind: bool


@dataclass(frozen=True)
class MandateView:
    mandate_id: uuid.UUID
    biller: BillerView
    account_no: str
    debit_account_id: uuid.UUID
    limit: Money
    due_day: int
    active: bool
    attempts: int
    last_period: str
    paused: bool = False


@dataclass(frozen=True)
class NoticeView:
    notice_id: uuid.UUID
    kind: str
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class BreakView:
    break_id: uuid.UUID
    biller_code: str
    business_date: dt.date
    our_ref: str
    kind: str
    ours: Money
    theirs: Money
    state: str
    resolution: str
    resolved_by: str


@dataclass(frozen=True)
class BillerKpi:
    biller_code: str
    name: str
    payments: int
    paid: int
    failed: int
    pending: int
    success_rate: float
    avg_latency_ms: float
    open_breaks: int
    breaks: int


@dataclass(frozen=True)
class PartnerBiller:
    """One of a partner's billers with its KPIs (zeros before its first payment); latency
    percentiles are ``None`` until it has payments."""

    biller: BillerView
    payments: int
    success_rate: float
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    open_breaks: int


@dataclass(frozen=True)
class ReconSummary:
    biller_code: str
    business_date: dt.date
    ours: int
    theirs: int
    matched: int
    breaks: int
