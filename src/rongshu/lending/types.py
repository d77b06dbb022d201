"""Values crossing the lending boundary."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class OfferView:
    offer_id: uuid.UUID
    product_code: str
    limit_minor: int
    annual_rate: Decimal
    score: int
    expires_on: dt.date


@dataclass(frozen=True)
class InstalmentView:
    seq: int
    due_on: dt.date
    principal: int
    interest: int
    penalty: int
    paid: int
    due: int
    status: str  # paid, due, overdue, future


@dataclass(frozen=True)
class LoanView:
    loan_id: uuid.UUID
    application_id: uuid.UUID
    product_code: str
    state: str
    principal: int
    outstanding: int
    annual_rate: Decimal
    penalty_rate: Decimal
    method: str
    term_months: int
    start_on: dt.date
    maturity_on: dt.date
    dpd: int
    bucket: str
    due_now: int
    payoff: int
    next_due_on: dt.date | None
    model_version: str
    contract_text: str
    instalments: list[InstalmentView]


@dataclass(frozen=True)
class PortfolioRow:
    label: str
    count: int
    amount: int


@dataclass(frozen=True)
class LoanSummary:
    """One loan as the staff 360° customer view lists it."""

    loan_id: uuid.UUID
    product_code: str
    product_name: str
    state: str
    currency: str
    principal_minor: int
    outstanding_minor: int
    annual_rate: Decimal
    start_on: dt.date
    maturity_on: dt.date
    next_due_on: dt.date | None
    dpd: int
    bucket: str

    def __str__(self) -> str:
        from rongshu.kernel.money import format_minor

        return (
            f"{self.product_name} · {format_minor(self.outstanding_minor, self.currency)} / "
            f"{format_minor(self.principal_minor, self.currency)} {self.currency} · "
            f"{self.annual_rate * 100:.2f}% · {self.state} · DPD {self.dpd}"
        )
