"""Money: one block of customers for one calendar month, as transaction rows.

Rows are numpy columns (no Python loop per transaction) drawn from the stream
``(seed, "money", block, month)``; the only state carried from month to month is each
customer's current-account and fund balance (16 bytes a customer). Seasonality: Spring
Festival (bonuses, spending ×1.6 around the festival), Double 11 (online spending ×3 on 11
November), payday and weekly rhythms (Friday ×1.15, weekend ×1.35).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import numpy as np

from rongshu.insight.types import LAKE_KINDS
from rongshu.simulation.bank import spending as sp
from rongshu.simulation.bank.companies import company
from rongshu.simulation.bank.ids import BLOCK, TAGS, rng
from rongshu.simulation.bank.lives import CAR_LOAN_RATE, MORTGAGE_RATE, Lives, payment
from rongshu.simulation.bank.people import People, to_date, to_days

KINDS = LAKE_KINDS
K = {k: i for i, k in enumerate(KINDS)}
CHANNELS = ("mobile", "web", "branch", "atm", "pos", "qr", "api", "batch")
C = {c: i for i, c in enumerate(CHANNELS)}
PRODUCTS = (
    "deposit.current",  # slot 0
    "card.credit",  # 1
    "loan.mortgage",  # 2
    "loan.car",  # 3
    "wealth.fund",  # 4
    "deposit.time",  # 5
    "loan.business",  # 6
    "pension",  # 7
)
SLOTS = 8
COUNTRIES = ("CN", "US", "GB", "AU", "CA", "JP", "SG", "DE", "FR", "KR", "NZ", "MY")
MERCHANTS_PER_MCC = 1000

# Spring Festival (lunar new year), from the Chinese calendar
SPRING_FESTIVAL = {
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
}


def months_of(end_on: dt.date, months: int) -> list[tuple[int, int]]:
    """Calendar months ending with the (partial) month of ``end_on``: (first day, last day)
    as day numbers; the last month ends on ``end_on``."""
    out: list[tuple[int, int]] = []
    y, m = end_on.year, end_on.month
    for _ in range(months):
        first = dt.date(y, m, 1)
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        last = min(nxt - dt.timedelta(days=1), end_on)
        out.append((to_days(first), to_days(last)))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


@functools.cache
def day_weights(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Relative spending intensity of each day of a month, and the Double 11 flag."""
    days = np.arange(first, last + 1)
    w = np.ones(len(days))
    d11 = np.zeros(len(days), dtype=bool)
    for i, d in enumerate(days.tolist()):
        day = to_date(d)
        w[i] *= (1, 1, 1, 1, 1.15, 1.35, 1.35)[day.weekday()]
        sf = SPRING_FESTIVAL.get(day.year)
        if sf is not None and -10 <= (day - sf).days <= 7:
            w[i] *= 1.6
        if day.month == 11 and day.day <= 11:
            w[i] *= 1.2
        if day.month == 11 and day.day == 11:
            d11[i] = True
        if day.month == 12:
            w[i] *= 1.1
        if 10 <= day.day <= 16:  # after the common paydays
            w[i] *= 1.1
    return w / w.sum(), d11


@functools.cache
def _payday_table(seed: int, companies: int) -> np.ndarray:
    return np.array([company(seed, k).payday for k in range(companies)], dtype=np.int64)


@dataclass
class Rows:
    """Columns of transaction rows (one element per row)."""

    cust: list[np.ndarray] = field(default_factory=list)  # local index in the block
    slot: list[np.ndarray] = field(default_factory=list)
    day: list[np.ndarray] = field(default_factory=list)
    sec: list[np.ndarray] = field(default_factory=list)  # local time of day, seconds
    amount: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    channel: list[np.ndarray] = field(default_factory=list)
    mcc: list[np.ndarray] = field(default_factory=list)  # index in ALL_MCC or -1
    cp_tag: list[np.ndarray] = field(default_factory=list)  # TAGS value, 0 = none
    cp_idx: list[np.ndarray] = field(default_factory=list)
    country: list[np.ndarray] = field(default_factory=list)
    cross: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        cust: np.ndarray,
        slot: int | np.ndarray,
        day: np.ndarray,
        sec: np.ndarray,
        amount: np.ndarray,
        kind: int | np.ndarray,
        channel: int | np.ndarray,
        *,
        mcc: int | np.ndarray = -1,
        cp_tag: int | np.ndarray = 0,
        cp_idx: int | np.ndarray = 0,
        country: int | np.ndarray = 0,
        cross: bool | np.ndarray = False,
    ) -> None:
        n = len(cust)
        if n == 0:
            return

        def full(v: int | bool | np.ndarray, dtype: type) -> np.ndarray:
            return np.asarray(v, dtype=dtype) if np.ndim(v) else np.full(n, v, dtype=dtype)

        self.cust.append(np.asarray(cust, dtype=np.int64))
        self.slot.append(full(slot, np.int64))
        self.day.append(np.asarray(day, dtype=np.int64))
        self.sec.append(np.asarray(sec, dtype=np.int64))
        self.amount.append(np.asarray(amount, dtype=np.int64))
        self.kind.append(full(kind, np.int64))
        self.channel.append(full(channel, np.int64))
        self.mcc.append(full(mcc, np.int64))
        self.cp_tag.append(full(cp_tag, np.int64))
        self.cp_idx.append(full(cp_idx, np.int64))
        self.country.append(full(country, np.int64))
        self.cross.append(full(cross, np.bool_))

    def done(self) -> dict[str, np.ndarray]:
        cols = {
            name: (np.concatenate(getattr(self, name)) if getattr(self, name) else np.array([]))
            for name in (
                "cust",
                "slot",
                "day",
                "sec",
                "amount",
                "kind",
                "channel",
                "mcc",
                "cp_tag",
                "cp_idx",
                "country",
                "cross",
            )
        }
        if len(cols["cust"]) == 0:
            return cols
        order = np.lexsort((cols["sec"], cols["cust"], cols["day"]))
        return {k: v[order] for k, v in cols.items()}


@dataclass
class State:
    """What one block carries from month to month."""

    current: np.ndarray  # current-account balance, minor units
    fund: np.ndarray  # fund holdings


def new_state(lives: Lives) -> State:
    return State(current=lives.opening_balance.copy(), fund=np.zeros(BLOCK, dtype=np.int64))


def _times(r: np.random.Generator, n: int, *, peak: str) -> np.ndarray:
    if peak == "morning":
        return r.integers(8 * 3600, 11 * 3600, size=n)
    # spending: lunch and evening peaks, some late night
    which = r.random(n)
    noon = r.normal(12.5 * 3600, 3600, size=n)
    evening = r.normal(19.5 * 3600, 5400, size=n)
    any_time = r.uniform(7 * 3600, 23.9 * 3600, size=n)
    t = np.where(which < 0.35, noon, np.where(which < 0.8, evening, any_time))
    return np.clip(t, 0, 86_399).astype(np.int64)


# The instalment schedule, in calendar months: instalment k (1 … months) of a loan taken out
# on ``start`` falls due on day ``due_day(start)`` of the k-th calendar month after the start
# month. month_rows takes the instalments of a month by this rule and loan_balance counts the
# paid ones by it, so a loan never gets more than ``months`` instalments and its outstanding
# principal never goes below zero (no credit balance), whatever day the window ends on.


def _month(day: np.ndarray | int) -> np.ndarray:
    """Calendar month number (months since January 1970) of a day number."""
    return (
        np.asarray(day, dtype=np.int64)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def _first_of(month: np.ndarray) -> np.ndarray:
    """Day number of the first day of a calendar month number."""
    return month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def due_day(start: np.ndarray) -> np.ndarray:
    """Day of the month the instalments fall due: the start's, at most the 28th."""
    start = np.asarray(start, dtype=np.int64)
    return np.asarray(np.minimum(start - _first_of(_month(start)) + 1, 28), dtype=np.int64)


def instalments_by(start: np.ndarray, months: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """How many instalments have fallen due on or before ``day`` (0 … months)."""
    k = _month(day) - _month(start)
    reached = (np.asarray(day) - _first_of(_month(day)) + 1) >= due_day(start)
    return np.where(months > 0, np.clip(np.where(reached, k, k - 1), 0, months), 0)


def loan_end(start: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The day the last instalment falls due."""
    return np.asarray(_first_of(_month(start) + months) + due_day(start) - 1, dtype=np.int64)


def active_loan(start: np.ndarray, months: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    """Taken out on or before ``day`` and its last instalment not due before ``day``."""
    return (months > 0) & (start <= day) & (day <= loan_end(start, months))


def remaining(
    principal: np.ndarray, months: np.ndarray, paid: np.ndarray, annual: float
) -> np.ndarray:
    """Outstanding principal after ``paid`` equal instalments."""
    rate = annual / 12
    pay = payment(principal, months, annual).astype(np.float64)
    growth = (1 + rate) ** paid.astype(np.float64)
    out = principal * growth - pay * (growth - 1) / rate
    return np.where((months > 0) & (paid < months), np.maximum(out, 0), 0).astype(np.int64)


def month_rows(
    people: People,
    lives: Lives,
    state: State,
    month: int,
    first: int,
    last: int,
    *,
    customers: int,
    companies: int,
) -> dict[str, np.ndarray]:
    """Transaction rows of one block for one month (``state`` is read for interest only)."""
    r = rng(people.seed, "money", people.block, month)
    n = len(people)
    rows = Rows()
    alive = (people.index < customers) & (lives.onboarded <= last)
    idx = np.arange(n)
    first_date = to_date(first)
    n_days = last - first + 1
    age = (last - people.birth) / 365.25
    rich = np.clip(people.income / np.median(people.income), 0.2, 4.0)
    employer = (people.employer_hash % np.uint64(companies)).astype(np.int64)
    paydays = _payday_table(people.seed, companies)[employer]
    abroad_now = (lives.abroad_from <= last) & (lives.abroad_to >= first)
    country = 1 + (people.employer_hash >> np.uint64(20)).astype(np.int64) % (len(COUNTRIES) - 1)

    # salaries (payday of the employer) and Spring Festival bonuses
    payday = np.minimum(first + paydays - 1, last)
    employed = (
        alive
        & (lives.first_job <= payday)
        & (lives.retirement > payday)
        & ~(abroad_now & lives.abroad_study)
        & (payday >= first)
        & (payday <= last)
        & (to_date(last).day >= paydays)
    )
    sel = idx[employed]
    pay = (people.income[sel] * r.normal(1.0, 0.04, len(sel))).astype(np.int64)
    sf = SPRING_FESTIVAL.get(first_date.year)
    if sf is not None and first <= to_days(sf) - 1 and to_days(sf) - 40 <= last:
        pay += np.where(
            r.random(len(sel)) < 0.6, people.income[sel] * r.uniform(0.5, 2.0, len(sel)), 0
        ).astype(np.int64)
    rows.add(
        sel,
        0,
        payday[sel],
        _times(r, len(sel), peak="morning"),
        pay,
        K["salary"],
        C["batch"],
        cp_tag=TAGS["company"],
        cp_idx=employer[sel],
    )

    # pensions on the 15th after retirement
    pension_day = min(first + 14, last)
    retired = alive & (lives.retirement <= pension_day)
    sel = idx[retired]
    amount = np.maximum(180_000, people.income[sel] * 0.5).astype(np.int64)
    rows.add(
        sel,
        0,
        np.full(len(sel), pension_day),
        _times(r, len(sel), peak="morning"),
        amount,
        K["pension"],
        C["batch"],
    )

    # merchant spending: card and QR
    weights, d11 = day_weights(first, last)
    age_group = np.where(age < 35, 0, np.where(age < 60, 1, 2))
    lam = (8 + 8 * np.sqrt(rich)) * np.where(age_group == 2, 0.7, 1.0) * n_days / 30.4
    count = np.where(alive, r.poisson(lam), 0)
    cust = np.repeat(idx, count)
    m = len(cust)
    day = first + r.choice(n_days, size=m, p=weights)
    cum = np.cumsum(sp.MIX, axis=1)
    mcc = np.minimum(
        (cum[age_group[cust]] < r.random(m)[:, None]).sum(axis=1), len(sp.MCC_TABLE) - 1
    )
    if d11.any():  # Double 11: extra online orders on 11 November
        extra = np.where(alive, r.poisson(1.5 * rich), 0)
        c2 = np.repeat(idx, extra)
        cust = np.concatenate([cust, c2])
        day = np.concatenate([day, np.full(len(c2), first + int(np.flatnonzero(d11)[0]))])
        mcc = np.concatenate([mcc, np.full(len(c2), sp.MCC_INDEX["5262"])])
    # car owners: fuel and parking
    car = alive & (lives.car <= last)
    for code, rate in (("5541", 3.0), ("7523", 4.0)):
        k = np.where(car, r.poisson(rate * n_days / 30.4, n), 0)
        c3 = np.repeat(idx, k)
        cust = np.concatenate([cust, c3])
        day = np.concatenate([day, first + r.integers(0, n_days, len(c3))])
        mcc = np.concatenate([mcc, np.full(len(c3), sp.MCC_INDEX[code])])
    m = len(cust)
    amount = -(sp.MEDIANS[mcc] * np.exp(r.normal(0, 0.6, m)) * rich[cust] ** 0.3 * 100).astype(
        np.int64
    )
    # a budget: merchant spending stays within about 55 % of the month's income (pension for
    # the retired, a small allowance for those without a salary)
    earning = (lives.first_job <= last) & (lives.retirement > last)
    budget = (
        np.where(
            earning,
            people.income * 0.55,
            np.where(lives.retirement <= last, people.income * 0.35, people.income * 0.2),
        )
        * n_days
        / 30.4
    )
    spent = np.bincount(cust, weights=-amount, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(spent > budget, budget / spent, 1.0)
    amount = np.minimum((amount * scale[cust]).astype(np.int64), -100)
    qr_share = np.array([0.7, 0.55, 0.35])[age_group[cust]]
    is_qr = (r.random(m) < qr_share) & ~sp.ONLINE[mcc]
    on_card = lives.credit_card[cust] & ~is_qr & (r.random(m) < 0.6)
    abroad = abroad_now[cust] & (lives.abroad_from[cust] <= day) & (lives.abroad_to[cust] >= day)
    cross = abroad & (r.random(m) < 0.7)
    rows.add(
        cust,
        np.where(on_card, 1, 0),
        day,
        _times(r, m, peak="spend"),
        amount,
        np.where(is_qr, K["qr"], K["card"]),
        np.where(is_qr, C["qr"], np.where(sp.ONLINE[mcc], C["mobile"], C["pos"])),
        mcc=mcc,
        cp_tag=TAGS["merchant"],
        cp_idx=mcc * MERCHANTS_PER_MCC + r.integers(0, MERCHANTS_PER_MCC, m),
        country=np.where(cross, country[cust], 0),
        cross=cross,
    )
    card_spent = np.bincount(cust[on_card], weights=-amount[on_card], minlength=n).astype(np.int64)

    # bills: utilities and telecom, once a month
    for code in ("4900", "4814"):
        sel = idx[alive]
        j = sp.MCC_INDEX[code]
        bill = -(sp.MEDIANS[j] * np.exp(r.normal(0, 0.35, len(sel))) * 100).astype(np.int64)
        rows.add(
            sel,
            0,
            first + r.integers(0, n_days, len(sel)),
            _times(r, len(sel), peak="spend"),
            bill,
            K["bill"],
            C["mobile"],
            mcc=j,
            cp_tag=TAGS["merchant"],
            cp_idx=j * MERCHANTS_PER_MCC + (people.street_seed[sel] % 7).astype(np.int64),
        )

    # loans: disbursement in the month of purchase, then monthly instalments
    for slot, start, months, principal, rate in (
        (2, lives.home, lives.mortgage_months, lives.mortgage_principal, MORTGAGE_RATE),
        (3, lives.car, lives.car_loan_months, lives.car_principal, CAR_LOAN_RATE),
    ):
        new = alive & (months > 0) & (start >= first) & (start <= last)
        sel = idx[new]
        rows.add(
            sel,
            slot,
            start[sel],
            _times(r, len(sel), peak="morning"),
            -principal[sel],
            K["loan_disbursement"],
            C["branch"],
        )
        # instalment k = this month's number after the start month, due on its due day (not
        # taken when the window ends before it)
        k = _month(first) - _month(start)
        due = first + due_day(start) - 1
        repaying = alive & (months > 0) & (k >= 1) & (k <= months) & (due <= last)
        sel = idx[repaying]
        inst = payment(principal[sel], months[sel], rate)
        t = _times(r, len(sel), peak="morning")
        rows.add(
            sel,
            0,
            due[sel],
            t,
            -inst,
            K["loan_repayment"],
            C["batch"],
            cp_tag=TAGS["account"],
            cp_idx=people.index[sel] * SLOTS + slot,
        )
        rows.add(
            sel,
            slot,
            due[sel],
            t,
            inst,
            K["loan_repayment"],
            C["batch"],
            cp_tag=TAGS["account"],
            cp_idx=people.index[sel] * SLOTS,
        )

    # person-to-person transfers inside the block
    k = np.where(alive, r.poisson(1.2 * n_days / 30.4, n), 0)
    sender = np.repeat(idx, k)
    receiver = r.integers(0, n, len(sender))
    ok = alive[receiver] & (receiver != sender)
    sender, receiver = sender[ok], receiver[ok]
    amt = (np.exp(r.normal(np.log(500), 1.0, len(sender))) * 100).astype(np.int64) // 100 * 100
    d = first + r.integers(0, n_days, len(sender))
    t = _times(r, len(sender), peak="spend")
    rows.add(
        sender,
        0,
        d,
        t,
        -amt,
        K["transfer_out"],
        C["mobile"],
        cp_tag=TAGS["customer"],
        cp_idx=people.index[receiver],
    )
    rows.add(
        receiver,
        0,
        d,
        t,
        amt,
        K["transfer_in"],
        C["mobile"],
        cp_tag=TAGS["customer"],
        cp_idx=people.index[sender],
    )

    # credit card: the month's card spending repaid from the current account on the last day
    sel = idx[card_spent > 0]
    t = np.full(len(sel), 20 * 3600)
    rows.add(
        sel,
        0,
        np.full(len(sel), last),
        t,
        -card_spent[sel],
        K["transfer_out"],
        C["batch"],
        cp_tag=TAGS["account"],
        cp_idx=people.index[sel] * SLOTS + 1,
    )
    rows.add(
        sel,
        1,
        np.full(len(sel), last),
        t,
        card_spent[sel],
        K["transfer_in"],
        C["batch"],
        cp_tag=TAGS["account"],
        cp_idx=people.index[sel] * SLOTS,
    )

    # abroad: a monthly FX purchase sent abroad (tuition, living costs)
    sel = idx[alive & abroad_now]
    fx = -(np.exp(r.normal(np.log(8000), 0.6, len(sel))) * rich[sel] * 100).astype(np.int64)
    rows.add(
        sel,
        0,
        first + r.integers(0, n_days, len(sel)),
        _times(r, len(sel), peak="morning"),
        fx,
        K["fx"],
        C["mobile"],
        country=country[sel],
        cross=True,
    )

    # funds: a monthly purchase for fund holders
    sel = idx[alive & lives.fund]
    inv = (people.income[sel] * r.uniform(0.05, 0.3, len(sel))).astype(np.int64) // 100 * 100
    d = np.full(len(sel), min(first + 9, last))
    t = _times(r, len(sel), peak="morning")
    rows.add(
        sel,
        0,
        d,
        t,
        -inv,
        K["investment"],
        C["mobile"],
        cp_tag=TAGS["account"],
        cp_idx=people.index[sel] * SLOTS + 4,
    )
    rows.add(
        sel,
        4,
        d,
        t,
        inv,
        K["investment"],
        C["mobile"],
        cp_tag=TAGS["account"],
        cp_idx=people.index[sel] * SLOTS,
    )

    # interest on current accounts, settled quarterly on the 21st (demand rate 0.05 % a year)
    day21 = first + 20
    if first_date.month in (3, 6, 9, 12) and day21 <= last:
        sel = idx[alive & (state.current > 0)]
        interest = (state.current[sel] * 0.0005 / 4 + 0.5).astype(np.int64)
        keep = interest > 0
        sel = sel[keep]
        rows.add(
            sel,
            0,
            np.full(len(sel), day21),
            np.full(len(sel), 3600),
            interest[keep],
            K["interest"],
            C["batch"],
        )

    return rows.done()


def update_state(state: State, rows: dict[str, np.ndarray]) -> None:
    """Apply a month's rows to the carried balances."""
    if len(rows["cust"]) == 0:
        return
    n = len(state.current)
    on_current = rows["slot"] == 0
    state.current += np.bincount(
        rows["cust"][on_current], weights=rows["amount"][on_current], minlength=n
    ).astype(np.int64)
    on_fund = rows["slot"] == 4
    state.fund += np.bincount(
        rows["cust"][on_fund], weights=rows["amount"][on_fund], minlength=n
    ).astype(np.int64)


def loan_balance(lives: Lives, slot: int, day: int) -> np.ndarray:
    """Outstanding principal (negative: owed) of the mortgage (slot 2) or car loan (slot 3)."""
    if slot == 2:
        start, months, principal, rate = (
            lives.home,
            lives.mortgage_months,
            lives.mortgage_principal,
            MORTGAGE_RATE,
        )
    else:
        start, months, principal, rate = (
            lives.car,
            lives.car_loan_months,
            lives.car_principal,
            CAR_LOAN_RATE,
        )
    bal = remaining(principal, months, instalments_by(start, months, day), rate)
    return -np.where(active_loan(start, months, day), bal, 0)
