"""Schedules against numpy-financial, per period, to the fen.

Rounding rule under test (see ``rongshu.lending.schedule``): half-up per instalment, the last
instalment absorbs the residue. So every period's interest and payment equal numpy-financial's
``ipmt`` / ``pmt`` rounded half-up to the fen, principal (``ppmt``) differs by at most the one
fen that rounding payment and interest separately can leave, and the principal parts sum to the
loan exactly."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from rongshu.lending.schedule import (
    ANNUITY,
    EQUAL_PRINCIPAL,
    INTEREST_FIRST,
    add_months,
    build_schedule,
)

START = dt.date(2026, 1, 31)
amounts = st.integers(min_value=1_000_00, max_value=3_000_000_00)
terms = st.integers(min_value=1, max_value=36)
rates = st.integers(min_value=1, max_value=2400).map(lambda bp: Decimal(bp) / 10_000)


def fen(x: float) -> int:
    return int(Decimal(repr(x * 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def close(ours: int, theirs: float) -> bool:
    """Equal to the fen: a float's representation error may sit within 1e-6 fen of .5."""
    return abs(ours - theirs * 100) <= 0.5 + 1e-6


@settings(max_examples=300, deadline=None)
@given(amounts, terms, rates)
def test_annuity_matches_numpy_financial(principal: int, n: int, annual: Decimal) -> None:
    r = float(annual) / 12
    rows = build_schedule(
        principal=principal, annual_rate=annual, term=n, method=ANNUITY, start_on=START
    )
    pv = principal / 100
    pmt = -float(npf.pmt(r, n, pv))
    assert sum(row.principal for row in rows) == principal
    for k, row in enumerate(rows, start=1):
        ipmt = -float(npf.ipmt(r, k, n, pv))
        ppmt = -float(npf.ppmt(r, k, n, pv))
        assert close(row.interest, ipmt), (k, row, ipmt)
        if k < n:
            assert close(row.payment, pmt), (k, row, pmt)
            assert abs(row.principal - ppmt * 100) <= 1.0 + 1e-6
        else:  # the last instalment absorbs the residue of the earlier roundings
            assert abs(row.principal - ppmt * 100) <= n + 1  # ≤ 1 fen per earlier period


@settings(max_examples=200, deadline=None)
@given(amounts, terms, rates)
def test_equal_principal(principal: int, n: int, annual: Decimal) -> None:
    r = float(annual) / 12
    rows = build_schedule(
        principal=principal, annual_rate=annual, term=n, method=EQUAL_PRINCIPAL, start_on=START
    )
    assert sum(row.principal for row in rows) == principal
    pv = principal / 100
    for k, row in enumerate(rows, start=1):
        balance = pv - pv * (k - 1) / n
        # numpy-financial's ipmt of a one-period loan of the remaining balance = balance × r
        assert close(row.interest, -float(npf.ipmt(r, 1, 1, balance)))
        if k < n:
            assert close(row.principal, pv / n)
    assert abs(rows[-1].principal - (pv / n) * 100) <= n * 0.5 + 1


@settings(max_examples=200, deadline=None)
@given(amounts, terms, rates)
def test_interest_first(principal: int, n: int, annual: Decimal) -> None:
    r = float(annual) / 12
    rows = build_schedule(
        principal=principal, annual_rate=annual, term=n, method=INTEREST_FIRST, start_on=START
    )
    pv = principal / 100
    for k, row in enumerate(rows, start=1):
        # a loan with fv = -pv: every payment is interest only, the principal comes back at n
        assert close(row.interest, -float(npf.ipmt(r, k, n, pv, -pv)))
        assert row.principal == (principal if k == n else 0)


def test_known_schedule_and_dates() -> None:
    rows = build_schedule(
        principal=10_000_00,
        annual_rate=Decimal("0.0435"),
        term=3,
        method=ANNUITY,
        start_on=START,
    )
    assert [r.due_on for r in rows] == [
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
    ]
    # pmt = 3,357.53; interest 36.25, 24.21, 12.13 (half-up); principal sums to 10,000.00
    assert [r.interest for r in rows] == [36_25, 24_21, 12_13]
    assert [r.payment for r in rows[:2]] == [3_357_53, 3_357_53]
    assert sum(r.principal for r in rows) == 10_000_00
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
