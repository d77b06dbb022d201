"""Repayment schedules (还款计划): 等额本息, 等额本金 and 先息后本 — pure functions, no database.

Rounding rule (stated once, used everywhere): every amount is computed exactly in ``Decimal``
and rounded **half-up to the fen per instalment**; the **last instalment absorbs the
residue**, so the principal parts always sum to the loan amount exactly.

* 等额本息 (``annuity``): the payment is ``round_half_up(pmt(r, n, P))``; the interest of
  period *k* is ``round_half_up(ipmt(r, k, n, P))`` (the exact amortisation, as
  numpy-financial computes it); the principal is payment − interest; the last period's
  principal is what is left, its payment principal + interest.
* 等额本金 (``equal_principal``): principal ``round_half_up(P / n)`` (last: the residue),
  interest ``round_half_up(balance × r)`` on the exact remaining balance.
* 先息后本 (``interest_first``): interest ``round_half_up(P × r)`` every period, the whole
  principal with the last one.

``r`` is the annual rate ÷ 12 (monthly instalments).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

ANNUITY = "annuity"
EQUAL_PRINCIPAL = "equal_principal"
INTEREST_FIRST = "interest_first"
METHODS = (ANNUITY, EQUAL_PRINCIPAL, INTEREST_FIRST)
ROUNDING = ROUND_HALF_UP


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_on: dt.date
    principal: int  # minor units (fen)
    interest: int

    @property
    def payment(self) -> int:
        return self.principal + self.interest


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _fen(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUNDING))


def monthly_rate(annual_rate: Decimal) -> Decimal:
    return annual_rate / 12


def exact_pmt(rate: Decimal, n: int, principal: Decimal) -> Decimal:
    if rate == 0:
        return principal / n
    growth = (1 + rate) ** n
    return principal * rate * growth / (growth - 1)


def exact_ipmt(rate: Decimal, k: int, n: int, principal: Decimal) -> Decimal:
    """Interest of period ``k`` (1-based) of an annuity: the balance after k−1 payments × r."""
    if rate == 0:
        return Decimal(0)
    payment = exact_pmt(rate, n, principal)
    growth = (1 + rate) ** (k - 1)
    balance = principal * growth - payment * (growth - 1) / rate
    return balance * rate


def build_schedule(
    *,
    principal: int,
    annual_rate: Decimal,
    term: int,
    method: str,
    start_on: dt.date,
    first_seq: int = 1,
) -> list[Instalment]:
    """The instalments of ``principal`` (fen) over ``term`` months from ``start_on``."""
    if method not in METHODS:
        raise ValueError(f"unknown repayment method {method!r}")
    if term < 1 or principal < 0:
        raise ValueError("term must be positive and principal non-negative")
    with localcontext() as ctx:
        ctx.prec = 50
        r = monthly_rate(annual_rate)
        p = Decimal(principal)
        rows: list[Instalment] = []
        paid = 0
        payment = _fen(exact_pmt(r, term, p)) if method == ANNUITY else 0
        for k in range(1, term + 1):
            due = add_months(start_on, k)
            last = k == term
            if method == ANNUITY:
                interest = _fen(exact_ipmt(r, k, term, p))
                part = (
                    principal - paid if last else max(0, min(payment - interest, principal - paid))
                )
            elif method == EQUAL_PRINCIPAL:
                balance = p - p * (k - 1) / term
                interest = _fen(balance * r)
                part = principal - paid if last else _fen(p / term)
            else:
                interest = _fen(p * r)
                part = principal if last else 0
            paid += part
            rows.append(Instalment(first_seq + k - 1, due, part, interest))
        return rows
