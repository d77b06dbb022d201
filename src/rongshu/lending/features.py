"""Scoring features from the bank's own data, for one customer or for all of them at once.

From the ledger (one query for every customer account): the average monthly inflow of the
customer's deposit accounts (credits ÷ months held — payroll lands there), the current balance,
the tenure in months (oldest account), the monthly outflow (debits ÷ months, standing in for
card spend), products held; from lending: age (birth date cached from the resident ID at the
first application, else read in bulk through ``identity.queries.birth_dates_of``), existing
debt service (monthly instalments of open loans) and past late payments. Amounts are in yuan
(floats) as the model was trained.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from django.db.models import Q

from rongshu.identity import queries as identity_queries
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.types import AccountView
from rongshu.lending.models import Borrower, Instalment, Loan


@dataclass(frozen=True)
class Profile:
    customer_id: uuid.UUID
    monthly_inflow: int  # fen
    balance: int
    tenure_months: int
    age: int | None
    products: int
    debt_service: int  # fen per month, our loans
    late_payments: int
    monthly_outflow: int
    outstanding: int  # our loans' principal outstanding


def _months(start: dt.date, end: dt.date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def age_on(birth_on: dt.date | None, day: dt.date) -> int | None:
    if birth_on is None:
        return None
    return day.year - birth_on.year - ((day.month, day.day) < (birth_on.month, birth_on.day))


def _aggregate(
    accounts: Iterable[AccountView], today: dt.date
) -> dict[str, tuple[int, int, int, int, int]]:
    """owner → (monthly inflow, balance, tenure, monthly outflow, accounts)."""
    grouped: dict[str, list[AccountView]] = defaultdict(list)
    for a in accounts:
        if a.status != "closed" and a.kind == "liability" and a.currency == "CNY":
            grouped[a.owner_id].append(a)
    out: dict[str, tuple[int, int, int, int, int]] = {}
    for owner, rows in grouped.items():
        opened = min(r.created_at for r in rows).date()
        tenure = _months(opened, today)
        span = max(1, tenure)
        credits = sum(r.credits_posted for r in rows)
        debits = sum(r.debits_posted for r in rows)
        out[owner] = (
            credits // span,
            sum(r.balance for r in rows),
            tenure,
            debits // span,
            len(rows),
        )
    return out


def build_profiles(
    customer_ids: Iterable[uuid.UUID] | None,
    today: dt.date,
    *,
    births: Mapping[uuid.UUID, dt.date | None] | None = None,
) -> dict[uuid.UUID, Profile]:
    """Profiles for the given customers (None: every customer holding a deposit account);
    ``births`` are birth dates the caller already holds (the borrower row of a decision)."""
    wanted = None if customer_ids is None else {str(c) for c in customer_ids}
    if wanted is not None and len(wanted) == 1:
        views = ledger_queries.list_accounts(owner_type="customer", owner_id=next(iter(wanted)))
    else:
        views = ledger_queries.list_accounts(owner_type="customer", limit=10**9)
    agg = _aggregate(views, today)
    if wanted is not None:
        agg = {k: v for k, v in agg.items() if k in wanted}
    ids = []
    for key in list(agg):
        try:
            ids.append(uuid.UUID(key))
        except ValueError:  # an account not owned by a rongshu customer id
            del agg[key]
    born: dict[uuid.UUID, dt.date | None] = dict(births or {})
    if any(born.get(cid) is None for cid in ids):
        cached = Borrower.objects.filter(birth_on__isnull=False)
        if len(ids) < 5000:
            cached = cached.filter(customer_id__in=ids)
        born.update(cached.values_list("customer_id", "birth_on"))
    unknown = [cid for cid in ids if born.get(cid) is None]
    if unknown:  # not cached by an application yet: identity's bulk read (resident IDs)
        found = identity_queries.birth_dates_of(None if len(unknown) > 5000 else unknown)
        born.update((cid, found.get(cid)) for cid in unknown)
    # one query for our loans: the first instalment of each active loan (count, outstanding,
    # monthly debt service) and every instalment ever paid late
    loans: dict[uuid.UUID, tuple[int, int]] = {}
    service: dict[uuid.UUID, int] = defaultdict(int)
    late: dict[uuid.UUID, int] = defaultdict(int)
    inst = Instalment.objects.filter(Q(seq=1, loan__state=Loan.ACTIVE) | Q(was_late=True))
    if len(ids) < 5000:
        inst = inst.filter(loan__customer_id__in=ids)
    for cid, state, out, seq, p, i, was_late in inst.values_list(
        "loan__customer_id",
        "loan__state",
        "loan__outstanding_minor",
        "seq",
        "principal_minor",
        "interest_minor",
        "was_late",
    ):
        if seq == 1 and state == Loan.ACTIVE:
            n, total = loans.get(cid, (0, 0))
            loans[cid] = (n + 1, total + out)
            service[cid] += p + i
        if was_late:
            late[cid] += 1
    profiles: dict[uuid.UUID, Profile] = {}
    for cid in ids:
        inflow, bal, tenure, outflow, n_acc = agg[str(cid)]
        n_loans, outstanding = loans.get(cid, (0, 0))
        profiles[cid] = Profile(
            customer_id=cid,
            monthly_inflow=inflow,
            balance=bal,
            tenure_months=tenure,
            age=age_on(born.get(cid), today),
            products=n_acc + n_loans,
            debt_service=service[cid],
            late_payments=late[cid],
            monthly_outflow=outflow,
            outstanding=outstanding,
        )
    return profiles


_KEYS = (
    ("payroll", "inflow"),
    ("balance",),
    ("tenure",),
    ("age",),
    ("product",),
    ("debt",),
    ("late",),
    ("spend", "card"),
)


@cache
def _feature_names() -> tuple[str, ...]:
    from rongshu.lending.scoring.bank import bank_feature_names  # pandas: imported on first use

    return tuple(bank_feature_names())


def model_features(profile: Profile, *, extra_debt_service: int = 0) -> Mapping[str, float | None]:
    """The model's named features (names from ``bank_feature_names()``, matched by meaning)."""
    values: dict[tuple[str, ...], float | None] = {
        _KEYS[0]: profile.monthly_inflow / 100,
        _KEYS[1]: profile.balance / 100,
        _KEYS[2]: float(profile.tenure_months),
        _KEYS[3]: None if profile.age is None else float(profile.age),
        _KEYS[4]: float(profile.products),
        _KEYS[5]: (profile.debt_service + extra_debt_service) / 100,
        _KEYS[6]: float(profile.late_payments),
        _KEYS[7]: profile.monthly_outflow / 100,
    }
    out: dict[str, float | None] = {}
    for name in _feature_names():
        low = name.lower()
        tokens = set(re.split(r"[^a-z0-9]+", low))
        for keys, value in values.items():
            if keys == ("age",) and "age" not in tokens:
                continue
            if any(k in low for k in keys):
                out[name] = value
                break
        else:
            out[name] = None
    return out
