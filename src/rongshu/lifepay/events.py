"""Lifepay events (past tense), recorded in the outbox in the command's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rongshu.kernel.outbox import DomainEvent


@dataclass(frozen=True)
class BillPaymentChanged(DomainEvent):
    event_type: ClassVar[str] = "lifepay.BillPaymentChanged"
    payment_id: str
    customer_id: str
    biller_code: str
    amount_minor: int
    currency: str
    state: str
    reason_code: str = ""
    channel: str = ""  # api, web, autopay


@dataclass(frozen=True)
class NoticeIssued(DomainEvent):
    """A reminder or auto-pay/refund notice; the handler hands it to the notification centre."""

    event_type: ClassVar[str] = "lifepay.NoticeIssued"
    customer_id: str
    kind: str
    dedupe_key: str
    text_en: str
    text_zh: str


@dataclass(frozen=True)
class BillerSettled(DomainEvent):
    event_type: ClassVar[str] = "lifepay.BillerSettled"
    biller_code: str
    business_date: str
    net_minor: int
    currency: str
