"""Model → typed view conversions (what crosses the payments boundary)."""

from __future__ import annotations

from rongshu.kernel.money import Money
from rongshu.payments import qr
from rongshu.payments.models import Merchant, Payee, PaymentOrder
from rongshu.payments.types import (
    MerchantView,
    OrderView,
    PayeeView,
    StateChangeView,
)


def order_view(
    order: PaymentOrder, *, history: bool = False, created_by: str | None = None
) -> OrderView:
    """``history``: with its state history (read); ``created_by``: the order was just stored
    by this actor, and its history is the one row written with it — no read (a new order
    records the state it is stored in, docs/decisions/0006, third addendum)."""
    changes: tuple[StateChangeView, ...] = ()
    if created_by is not None:
        changes = (
            StateChangeView("", order.state, created_by, order.auth_level, order.created_at),
        )
    elif history:
        changes = tuple(
            StateChangeView(c.from_state, c.to_state, c.actor, c.reason, c.at)
            for c in order.history.all()
        )
    return OrderView(
        order_id=order.public_id,
        customer_id=order.customer_id,
        rail=order.rail,
        channel=order.channel,
        auth_level=order.auth_level,
        state=order.state,
        debit_account_id=order.debit_account_id,
        debtor_name=order.debtor_name,
        amount=Money(order.amount_minor, order.currency),
        fee=Money(order.fee_minor, order.currency),
        creditor_account_id=order.creditor_account_id,
        creditor_account_number=order.creditor_account_number,
        creditor_name=order.creditor_name,
        creditor_bank_code=order.creditor_bank_code,
        network=order.network,
        merchant_name=_merchant_name(order),
        remittance_info=order.remittance_info,
        reason_code=order.reason_code,
        refunded=Money(order.refunded_minor, order.currency),
        created_at=order.created_at,
        settled_at=order.settled_at,
        history=changes,
    )


def _merchant_name(order: PaymentOrder) -> str:
    """The merchant's name, or "" (an order without one reads nothing)."""
    merchant = order.merchant if order.merchant_id is not None else None
    return merchant.name if merchant is not None else ""


def payee_view(payee: Payee) -> PayeeView:
    return PayeeView(
        payee_id=payee.public_id,
        name=payee.name,
        account_number=payee.account_number,
        ledger_account_id=payee.ledger_account_id,
        bank_code=payee.bank_code,
        nickname=payee.nickname,
        verified=payee.verified_at is not None,
    )


def merchant_view(merchant: Merchant) -> MerchantView:
    return MerchantView(
        merchant_id=merchant.public_id,
        merchant_code=merchant.merchant_code,
        name=merchant.name,
        city=merchant.city,
        mcc=merchant.mcc,
        ledger_account_id=merchant.ledger_account_id,
        static_payload=qr.merchant_payload(
            merchant_id=merchant.merchant_code,
            name=merchant.name,
            city=merchant.city,
            mcc=merchant.mcc,
        ),
    )
