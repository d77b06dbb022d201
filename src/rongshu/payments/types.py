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


@dataclass(frozen=True)
class PaymentRequest:
    """What a customer asks to pay. A payee is one of ours (by account number through the
    registered resolvers, or by ledger account id) or, with ``payee_bank_code``, another
    bank's (interbank through the clearing network)."""

    debit_account_id: uuid.UUID
    amount: Money
    payee_account_number: str = ""
    payee_ledger_account_id: uuid.UUID | None = None
    payee_name: str = ""
    payee_bank_code: str = ""
    network: str = ""  # interbank: ibps, hvps or bulk (default: ibps up to its cap, else hvps)
    remittance_info: str = ""


@dataclass(frozen=True)
class StateChangeView:
    from_state: str
    to_state: str
    actor: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class OrderView:
    order_id: uuid.UUID
    customer_id: uuid.UUID | None
    rail: str
    channel: str
    auth_level: str
    state: str
    debit_account_id: uuid.UUID
    debtor_name: str
    amount: Money
    fee: Money
    creditor_account_id: uuid.UUID | None
    creditor_account_number: str
    creditor_name: str
    creditor_bank_code: str
    network: str
    merchant_name: str
    remittance_info: str
    reason_code: str
    refunded: Money
    created_at: dt.datetime
    settled_at: dt.datetime | None
    history: tuple[StateChangeView, ...] = ()


@dataclass(frozen=True)
class PayeeView:
    payee_id: uuid.UUID
    name: str
    account_number: str
    ledger_account_id: uuid.UUID | None
    bank_code: str
    nickname: str
    verified: bool


@dataclass(frozen=True)
class MerchantView:
    merchant_id: uuid.UUID
    merchant_code: str
    name: str
    city: str
    mcc: str
    ledger_account_id: uuid.UUID
    static_payload: str


@dataclass(frozen=True)
class PaymentCodeView:
    code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class DecodedQr:
    merchant_code: str | None
    merchant_name: str | None
    amount: Money | None  # of a dynamic code of ours: the issued request's amount
    currency: str | None
    dynamic: bool
    reference: str | None
    ours: bool
    # a dynamic code of ours: the issued request's bill number, state and expiry
    bill_number: str | None = None
    state: str | None = None
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class DynamicQrView:
    """A dynamic merchant QR the bank issued (a collection request, payable once)."""

    qr_id: uuid.UUID
    reference: str
    merchant_code: str
    amount: Money
    bill_number: str
    state: str  # open | paid | expired (an open request past its expiry reads expired)
    expires_at: dt.datetime
    order_id: uuid.UUID | None
    paid_at: dt.datetime | None
    created_at: dt.datetime
    payload: str
