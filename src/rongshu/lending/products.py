"""Loan products, the LPR table and risk-based pricing (configuration, dated).

Price = LPR (1-year, in force on the business date) + a spread by score band. The penalty rate
(罚息) on overdue principal is 1.5 × the contract rate. Rates are ``Decimal`` fractions; the
customer-facing interest is rounded half-up to the fen (see :mod:`rongshu.lending.schedule`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rongshu.lending.schedule import ANNUITY, EQUAL_PRINCIPAL, INTEREST_FIRST

PENALTY_FACTOR = Decimal("1.5")
DAY_COUNT = 360  # actual/360 for daily accrual and penalty interest

# Loan Prime Rate (贷款市场报价利率), 1-year tenor, by effective date (PBoC / NIFC releases).
LPR_1Y: tuple[tuple[dt.date, Decimal], ...] = (
    (dt.date(2023, 8, 21), Decimal("0.0345")),
    (dt.date(2024, 7, 22), Decimal("0.0335")),
    (dt.date(2024, 10, 21), Decimal("0.0310")),
    (dt.date(2025, 5, 20), Decimal("0.0300")),
)

# score band (lowest score) → spread over LPR; below the lowest band: decline.
# The model's points scale: 600 at good:bad odds 50:1, 20 points double the odds (PD ≈ 2% at
# 600, 5% at 575, 10% at 550, 20% at 525).
SPREADS: tuple[tuple[int, Decimal], ...] = (
    (620, Decimal("0.0050")),
    (590, Decimal("0.0150")),
    (560, Decimal("0.0300")),
    (530, Decimal("0.0500")),
)
LIMIT_SCALE: tuple[tuple[int, int], ...] = ((620, 100), (590, 80), (560, 60), (530, 40))
DECLINE_BELOW = 500  # scores in [500, 530) are referred to a person
MIN_AGE, MAX_AGE = 18, 60  # the borrower's age on the business date (policy rule)
MAX_DTI = Decimal("0.55")  # debt service / monthly income after the new loan


@dataclass(frozen=True)
class Product:
    code: str
    name: Promise
    min_amount: int  # fen
    max_amount: int
    min_term: int  # months
    max_term: int
    methods: tuple[str, ...]
    income_multiple: int  # limit = income × multiple (快贷) or turnover ÷ divisor (善融e贷)
    business: bool = False


PRODUCTS: dict[str, Product] = {
    "kuaidai": Product(
        "kuaidai",
        _("Quick Loan (快贷)"),
        1_000_00,
        300_000_00,
        1,
        36,
        (ANNUITY, EQUAL_PRINCIPAL, INTEREST_FIRST),
        income_multiple=8,
    ),
    "shanrong_edai": Product(
        "shanrong_edai",
        _("Shanrong e-Loan for small businesses (善融e贷)"),
        10_000_00,
        3_000_000_00,
        3,
        36,
        (ANNUITY, INTEREST_FIRST),
        income_multiple=4,  # limit = annual turnover ÷ 4 (a quarter's sales)
        business=True,
    ),
}


def lpr_on(day: dt.date) -> Decimal:
    """The 1-year LPR in force on ``day`` (settings ``LENDING_LPR_1Y`` may override the table)."""
    table = getattr(settings, "LENDING_LPR_1Y", None) or LPR_1Y
    rate = table[0][1]
    for effective_on, value in table:
        if effective_on <= day:
            rate = Decimal(value)
    return rate


def spread_for(score: int) -> Decimal | None:
    for floor, spread in SPREADS:
        if score >= floor:
            return spread
    return None


def price(score: int, day: dt.date) -> Decimal | None:
    """The contract rate for ``score`` on ``day``; None when the score earns no price."""
    spread = spread_for(score)
    return None if spread is None else lpr_on(day) + spread


def limit_for(product: Product, *, monthly_income: int, turnover: int, score: int) -> int:
    """The line: income-based for 快贷, turnover-based for 善融e贷, scaled by score band,
    rounded down to ¥100 and capped by the product's maximum."""
    base = (
        turnover // product.income_multiple
        if product.business
        else (monthly_income * product.income_multiple)
    )
    scale = next((f for floor, f in LIMIT_SCALE if score >= floor), 0)
    value = base * scale // 100
    return min(product.max_amount, value // 100_00 * 100_00)
