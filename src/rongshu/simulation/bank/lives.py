"""Lives, not labels: the life events of each person, drawn from their age, sex and income.

Every event has a date (days since 1970-01-01, :data:`NEVER` when it does not happen); only
events on or before the end date have happened and go to the ground truth. Behaviour in
:mod:`~rongshu.simulation.bank.money` is driven by these dates, so groups such as the elderly,
mortgage holders, car owners and cross-border customers emerge from the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rongshu.simulation.bank.ids import rng
from rongshu.simulation.bank.people import People, to_days

NEVER = 2**31 - 1
YEAR = 365.25
EVENTS = (
    "first_job",
    "marriage",
    "child",
    "home_purchase",
    "car_purchase",
    "abroad",
    "retirement",
)
MORTGAGE_RATE = 0.041  # LPR 5Y+ 2023-24 ranged 3.95-4.2 % (annual, monthly annuity)
CAR_LOAN_RATE = 0.045


@dataclass
class Lives:
    first_job: np.ndarray
    marriage: np.ndarray
    child1: np.ndarray
    child2: np.ndarray
    home: np.ndarray  # home purchase
    mortgage_months: np.ndarray  # 0 = paid cash
    mortgage_principal: np.ndarray  # minor units
    car: np.ndarray
    car_loan_months: np.ndarray
    car_principal: np.ndarray
    abroad_from: np.ndarray
    abroad_to: np.ndarray
    abroad_study: np.ndarray  # bool
    retirement: np.ndarray
    credit_card: np.ndarray  # bool
    fund: np.ndarray  # bool
    opening_balance: np.ndarray  # minor units of the current account at its opening
    onboarded: np.ndarray  # day the customer joined the bank

    def events(self, i: int, end_days: int) -> list[tuple[str, int]]:
        """The events that have happened to person ``i`` by ``end_days``, in date order."""
        found = [
            ("first_job", self.first_job[i]),
            ("marriage", self.marriage[i]),
            ("child", self.child1[i]),
            ("child", self.child2[i]),
            ("home_purchase", self.home[i]),
            ("car_purchase", self.car[i]),
            ("abroad", self.abroad_from[i]),
            ("retirement", self.retirement[i]),
        ]
        return sorted(
            ((name, int(day)) for name, day in found if day <= end_days), key=lambda e: e[1]
        )


def payment(principal: np.ndarray, months: np.ndarray, annual: float) -> np.ndarray:
    """Equal monthly instalment (annuity), minor units, rounded half up."""
    rate = annual / 12
    with np.errstate(divide="ignore", invalid="ignore"):
        pay = principal * rate / (1 - (1 + rate) ** (-months.astype(np.float64)))
    return np.where(months > 0, np.floor(pay + 0.5), 0).astype(np.int64)


def _at(birth: np.ndarray, age: np.ndarray) -> np.ndarray:
    return (birth + age * YEAR).astype(np.int64)


def generate_lives(people: People) -> Lives:
    r = rng(people.seed, "lives", people.block)
    n = len(people)
    end = to_days(people.end_on)
    birth = people.birth
    income = people.income.astype(np.float64)
    rich = np.clip(income / np.median(income), 0.2, 4.0)

    first_job = _at(birth, np.clip(r.normal(21.5, 2.5, n), 17, 28))
    # statutory retirement age: 60 for men, 55 for women (50 for women workers; 2025 reform
    # raises them gradually, not modelled)
    retirement = _at(birth, np.where(people.female, 55.0, 60.0) + r.random(n) * 0.3)
    married = r.random(n) < 0.86
    marriage = np.where(married, _at(birth, np.clip(r.normal(28.5, 3.5, n), 20, 48)), NEVER)
    has_child = married & (r.random(n) < 0.8)
    child1 = np.where(has_child, marriage + (r.uniform(0.8, 4.0, n) * YEAR).astype(np.int64), NEVER)
    second = has_child & (r.random(n) < 0.35)
    child2 = np.where(second, child1 + (r.uniform(2.0, 6.0, n) * YEAR).astype(np.int64), NEVER)

    buys_home = r.random(n) < np.clip(0.25 + 0.2 * rich, 0, 0.9)
    home = np.where(buys_home, _at(birth, np.clip(r.normal(31, 5, n), 23, 60)), NEVER)
    with_mortgage = buys_home & (r.random(n) < 0.75)
    mortgage_months = np.where(with_mortgage, r.choice([240, 300, 360], size=n), 0)
    mortgage_principal = np.where(
        with_mortgage, (income * r.uniform(40, 110, n) / 100).astype(np.int64) * 100, 0
    )
    buys_car = r.random(n) < np.clip(0.2 + 0.15 * rich, 0, 0.8)
    car = np.where(buys_car, _at(birth, np.clip(r.normal(32, 6, n), 20, 68)), NEVER)
    with_car_loan = buys_car & (r.random(n) < 0.5)
    car_loan_months = np.where(with_car_loan, r.choice([24, 36, 60], size=n), 0)
    car_principal = np.where(
        with_car_loan, (income * r.uniform(15, 45, n) / 100).astype(np.int64) * 100, 0
    )
    abroad = r.random(n) < np.clip(0.03 + 0.03 * rich, 0, 0.2)
    study = abroad & (r.random(n) < 0.5)
    recent = r.random(n) < 0.5
    start_age = np.where(
        study, np.clip(r.normal(22, 2, n), 18, 30), np.clip(r.normal(32, 6, n), 23, 55)
    )
    start = np.where(
        recent, end - (r.uniform(0, 3, n) * YEAR).astype(np.int64), _at(birth, start_age)
    )
    start = np.maximum(start, _at(birth, np.full(n, 18.0)))
    abroad_from = np.where(abroad, start, NEVER)
    abroad_to = np.where(abroad, start + (r.uniform(1, 3.5, n) * YEAR).astype(np.int64), NEVER)
    onboarded = np.maximum(
        _at(birth, np.full(n, 18.0)), end - (r.exponential(7, n) * YEAR).astype(np.int64)
    )
    return Lives(
        first_job=first_job,
        marriage=marriage,
        child1=child1,
        child2=child2,
        home=home,
        mortgage_months=mortgage_months,
        mortgage_principal=mortgage_principal,
        car=car,
        car_loan_months=car_loan_months,
        car_principal=car_principal,
        abroad_from=abroad_from,
        abroad_to=abroad_to,
        abroad_study=study,
        retirement=retirement,
        credit_card=r.random(n) < np.clip(0.25 + 0.2 * rich, 0, 0.85),
        fund=r.random(n) < np.clip(0.05 + 0.12 * rich, 0, 0.6),
        opening_balance=(income * r.uniform(0.5, 8, n)).astype(np.int64),
        onboarded=onboarded.astype(np.int64),
    )
