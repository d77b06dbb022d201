"""Demo ledger: the CNY chart of accounts, three customer deposit accounts with some history
(cash deposits, a transfer with a linked fee, a card hold) and a demand-deposit rate.

Idempotent: accounts are found by owner, and transfer ids are derived from fixed names, so a
second run answers ``exists`` for every transfer and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from rongshu.ledger import services as ledger
from rongshu.ledger.interest import do_set_interest_rate
from rongshu.ledger.models import Account
from rongshu.ledger.types import TransferIn

DEMO_NAMESPACE = uuid.UUID("0b6f5a0e-5f0e-4c58-8f5e-2a8d3c1e9b10")
DEMO_CUSTOMERS = (
    ("demo-customer-1", "张伟 活期储蓄"),
    ("demo-customer-2", "李娜 活期储蓄"),
    ("demo-customer-3", "王芳 活期储蓄"),
)


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, name)


def _account(owner_id: str, name: str) -> Account:
    account = Account.objects.filter(owner_type="customer", owner_id=owner_id).first()
    return account or ledger.do_create_customer_account(owner_id=owner_id, name=name)


def load_ledger_demo() -> str:
    ledger.do_create_chart_of_accounts(["CNY"])
    do_set_interest_rate(
        product_code="demand_deposit",
        currency="CNY",
        annual_rate=Decimal("0.0005"),  # 0.05 % a year, actual/360, settled quarterly
        effective_on=dt.date(2025, 1, 1),
        rounding="ROUND_HALF_UP",
    )
    cash = ledger.get_chart_account("cash.CNY").public_id
    capital = ledger.get_chart_account("equity.capital.CNY").public_id
    fees = ledger.get_chart_account("income.fees.CNY").public_id
    a, b, c = (_account(owner, name).public_id for owner, name in DEMO_CUSTOMERS)

    def t(
        name: str,
        debit: uuid.UUID,
        credit: uuid.UUID,
        minor: int,
        code: str,
        *,
        reference: str = "",
        linked: bool = False,
    ) -> TransferIn:
        return TransferIn(
            _id(name), debit, credit, minor, "CNY", code, reference=reference, linked=linked
        )

    items = [
        t("capital", cash, capital, 100_000_000_00, "capital", reference="paid-in capital"),
        t("deposit-1", cash, a, 52_000_00, "cash_deposit", reference="柜台存现"),
        t("deposit-2", cash, b, 8_800_00, "cash_deposit", reference="柜台存现"),
        t("deposit-3", cash, c, 1_250_50, "cash_deposit", reference="ATM 存款"),
        t("pay-rent", a, b, 3_500_00, "transfer", reference="房租 11 月", linked=True),
        t("pay-rent-fee", a, fees, 2_00, "fee", reference="转账手续费"),
        t("lunch", b, c, 45_80, "transfer", reference="午餐 AA"),
    ]
    results = ledger.do_create_transfers(items)
    hold = ledger.do_create_transfers(
        [
            TransferIn(
                _id("card-hold"),
                a,
                fees,
                199_00,
                "CNY",
                "card_hold",
                kind="pending",
                timeout=7 * 24 * 3600,
                reference="酒店预授权",
            )
        ]
    )
    created = sum(1 for r in [*results, *hold] if r.result == "created")
    failed = [r.result for r in [*results, *hold] if not r.ok]
    if failed:
        raise RuntimeError(f"demo transfers refused: {failed}")
    return f"chart of accounts, 3 customer accounts, {created} new transfers (1 hold)"
