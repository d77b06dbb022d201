"""Mortgages and car loans of the synthetic bank: the instalment schedule and the loan book.

A loan gets at most ``months`` instalments and never shows a credit balance, whatever day the
history window ends on (a window ending on a month's first day used to give a mortgage at the
end of its term one instalment too many: a credit of one instalment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from rongshu.ledger import queries as ledger_queries
from rongshu.simulation.bank import money
from rongshu.simulation.bank.ids import BLOCK, one_id
from rongshu.simulation.bank.lives import CAR_LOAN_RATE, MORTGAGE_RATE, generate_lives
from rongshu.simulation.bank.people import generate_people, to_date, to_days

# month-first window ends (the reported failure), a month's last day, and leap-day windows
ENDS = [
    dt.date(2026, 12, 1),
    dt.date(2027, 1, 1),
    dt.date(2026, 11, 30),
    dt.date(2026, 11, 1),
    dt.date(2027, 3, 1),
    dt.date(2024, 3, 1),
    dt.date(2024, 2, 29),
    dt.date(2026, 10, 15),
]


def _due_before(start: int, months: int, day: dt.date) -> int:
    """Instalments due before ``day``, counted on the calendar (the k-th falls due on the
    start's day of the month, at most the 28th, k calendar months after the start month)."""
    s = to_date(start)
    n = 0
    for k in range(1, months + 1):
        y, m = divmod(s.year * 12 + s.month - 1 + k, 12)
        if dt.date(y, m + 1, min(s.day, 28)) >= day:
            break
        n += 1
    return n


@pytest.mark.parametrize("end_on", ENDS, ids=str)
def test_a_loan_gets_at_most_its_term_and_the_book_counts_the_instalments_taken(
    end_on: dt.date,
) -> None:
    people = generate_people(1, 0, end_on)
    lives = generate_lives(people)
    periods = money.months_of(end_on, 12)
    before = periods[0][0] - 1  # the day the loan book opens (simulation.bank.load)
    state = money.new_state(lives)
    taken = {2: np.zeros(BLOCK, dtype=np.int64), 3: np.zeros(BLOCK, dtype=np.int64)}
    loans = {
        2: (lives.home, lives.mortgage_months, lives.mortgage_principal, MORTGAGE_RATE),
        3: (lives.car, lives.car_loan_months, lives.car_principal, CAR_LOAN_RATE),
    }
    opening = {s: money.loan_balance(lives, s, before) for s in loans}
    # customers of the bank for the whole window (a later one's instalments start when they join)
    joined = lives.onboarded <= periods[0][1]
    for month, (first, last) in enumerate(periods):
        rows = money.month_rows(
            people, lives, state, month, first, last, customers=BLOCK, companies=25
        )
        money.update_state(state, rows)
        for slot in loans:
            on_loan = (rows["kind"] == money.K["loan_repayment"]) & (rows["slot"] == slot)
            np.add.at(taken[slot], rows["cust"][on_loan], 1)
            start, months, principal, rate = loans[slot]
            book = money.loan_balance(lives, slot, last)
            assert (book <= 0).all(), f"a credit balance on {to_date(last)}"
            # the book on a day is the outstanding principal after the instalments taken
            has = joined & (months > 0) & (start <= before)
            paid = money.instalments_by(start, months, before) + taken[slot]
            expected = -money.remaining(principal, months, paid, rate)
            assert (book[has] == expected[has]).all(), f"book and instalments on {to_date(last)}"
            assert (opening[slot] <= 0).all()

    window_first = to_date(periods[0][0])
    checked = 0
    for slot, (start, months, _principal, _rate) in loans.items():
        for i in np.flatnonzero(joined & (months > 0)).tolist():
            s, term = int(start[i]), int(months[i])
            if s > to_days(end_on):
                continue
            due_before = _due_before(s, term, window_first)
            in_window = _due_before(s, term, end_on + dt.timedelta(days=1)) - due_before
            assert int(taken[slot][i]) == in_window, (slot, i, to_date(s), term)
            assert due_before + int(taken[slot][i]) <= term, (slot, i, to_date(s), term)
            assert int(money.instalments_by(start[i : i + 1], months[i : i + 1], before)[0]) == (
                due_before
            )
            checked += 1
    assert checked > 100


@pytest.mark.django_db
@pytest.mark.parametrize(
    "end_on", [dt.date(2026, 12, 1), dt.date(2027, 1, 1), dt.date(2026, 11, 30)], ids=str
)
def test_the_loaded_loan_book_never_shows_a_credit_and_a_paid_off_loan_ends_at_zero(
    end_on: dt.date, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from rongshu.simulation.bank.load import load_bank

    customers = 300
    with django_capture_on_commit_callbacks(execute=True):
        load_bank(customers=customers, months=12, seed=1, end_on=end_on, spending="monthly")
    lives = generate_lives(generate_people(1, 0, end_on))
    window_first = to_date(money.months_of(end_on, 12)[0][0])
    local = {str(one_id(1, "customer", i)): i for i in range(customers)}
    terms = {
        "loan_mortgage": (lives.home, lives.mortgage_months),
        "loan_car": (lives.car, lives.car_loan_months),
    }
    loans = [
        a
        for a in ledger_queries.list_accounts(limit=100_000)
        if a.product_code in terms and a.owner_id in local
    ]
    assert len(loans) > 50
    ended = 0
    for a in loans:
        start, months = terms[a.product_code]
        i = local[a.owner_id]
        assert a.balance >= 0, (a.product_code, to_date(int(start[i])), int(months[i]), a.balance)
        repaid = [
            line
            for line in ledger_queries.iter_statement(a.public_id)
            if line.code == "loan_repayment"
        ]
        due_before = _due_before(int(start[i]), int(months[i]), window_first)
        assert len(repaid) <= int(months[i]) - due_before
        ends = int(money.loan_end(start[i : i + 1], months[i : i + 1])[0])
        if ends <= to_days(end_on) and lives.onboarded[i] <= to_days(window_first):
            assert a.balance == 0, (a.product_code, to_date(int(start[i])), int(months[i]))
            ended += 1
    assert ended > 0  # some loans end in the window: the cases that went to a credit
    assert ledger_queries.get_trial_balance("CNY").balanced
