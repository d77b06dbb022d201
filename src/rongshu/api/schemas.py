"""Response schemas shared by several API modules."""

from __future__ import annotations

from ninja import Schema

from rongshu.kernel.money import Money


class MoneyOut(Schema):
    """An amount as a decimal string in the currency's major unit (``"12.50"``) and its code."""

    amount: str
    currency: str


def money_out(m: Money) -> MoneyOut:
    return MoneyOut(amount=m.amount_str(), currency=m.currency)
