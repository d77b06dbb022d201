"""Load the synthetic bank into the OLTP database through the domains' public services.

Customers go through identity's import (branch-KYC'd, no login), Type I accounts through the
accounts domain, and the money of the current accounts through ``ledger.do_create_transfers``
in batches. Transfer ids are the lake's transaction ids (deterministic), so loading twice
changes nothing: the second run answers ``exists`` for every transfer.

Bank-side legs use the chart of accounts: salaries and pensions arrive through CNAPS BEPS,
card spending settles through UnionPay, QR through NetsUnion, bills and transfers to other
banks through IBPS, FX and cross-border through CNAPS HVPS, loan instalments reduce loan
receivables (the outstanding principal is booked first), interest is an interest expense.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from django.db import transaction

from rongshu.accounts import services as accounts
from rongshu.accounts.types import PRODUCTS
from rongshu.identity import services as identity
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.ledger.types import MAX_BATCH, TransferIn
from rongshu.simulation.bank import money
from rongshu.simulation.bank import spending as sp
from rongshu.simulation.bank.ids import BLOCK, TAGS, id_array, one_id
from rongshu.simulation.bank.lives import CAR_LOAN_RATE, MORTGAGE_RATE, generate_lives
from rongshu.simulation.bank.money import COUNTRIES, KINDS, SLOTS, K
from rongshu.simulation.bank.people import generate_people, to_date, to_days
from rongshu.simulation.bank.typologies import inject

CHART = {
    "beps": "settlement.cnaps_beps.CNY",
    "hvps": "settlement.cnaps_hvps.CNY",
    "ibps": "settlement.ibps.CNY",
    "unionpay": "settlement.unionpay.CNY",
    "nucc": "settlement.nucc.CNY",
    "loans": "loans.receivable.CNY",
    "interest": "expense.interest.CNY",
    "interest_income": "income.interest.CNY",
    "cash": "cash.CNY",
}
_CODES = {
    K["salary"]: "salary",
    K["pension"]: "pension",
    K["transfer_in"]: "transfer",
    K["transfer_out"]: "transfer",
    K["card"]: "card_payment",
    K["qr"]: "qr_payment",
    K["bill"]: "bill_payment",
    K["loan_repayment"]: "loan_repayment",
    K["interest"]: "interest",
    K["fx"]: "fx",
    K["investment"]: "investment",
    K["cash"]: "cash_deposit",
}


# the loans' ledger accounts: slot → (product code, label, annual rate)
LOANS = {
    2: ("loan_mortgage", "住房贷款", MORTGAGE_RATE),
    3: ("loan_car", "汽车贷款", CAR_LOAN_RATE),
}
_BEIJING = dt.timezone(dt.timedelta(hours=8))


def _meta(day: int, sec: int, kind: int, channel: int, **extra: Any) -> dict[str, Any]:
    """The transfer's business metadata for the lake export (docs/lake.md): the booking date
    and moment (the history is posted at load time) and the generator's kind and channel."""
    on = to_date(day)
    at = dt.datetime.combine(on, dt.time(), _BEIJING) + dt.timedelta(seconds=sec)
    meta: dict[str, Any] = {
        "booked_on": on.isoformat(),
        "booked_at": at.astimezone(dt.UTC).isoformat(),
        "kind": KINDS[kind],
        "channel": money.CHANNELS[channel],
    }
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def _row_meta(rows: dict[str, Any], k: int) -> dict[str, Any]:
    mcc = int(rows["mcc"][k])
    cross = bool(rows["cross"][k])
    return _meta(
        int(rows["day"][k]),
        int(rows["sec"][k]),
        int(rows["kind"][k]),
        int(rows["channel"][k]),
        mcc=sp.ALL_MCC[mcc].code if mcc >= 0 else None,
        need_category=sp.ALL_MCC[mcc].need if mcc >= 0 else None,
        cross_border=True if cross else None,
        country=COUNTRIES[int(rows["country"][k])] if cross else None,
    )


def _uuids(arr: Any) -> list[uuid.UUID]:
    return [uuid.UUID(s) for s in arr.to_pylist()]


def load_bank(
    *,
    customers: int = 2000,
    months: int = 12,
    seed: int = 1,
    end_on: dt.date | None = None,
    batch: int = MAX_BATCH,
    spending: str = "detail",
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Import ``customers`` people and post ``months`` of their current-account money.

    ``spending="monthly"`` posts each customer's card and QR spending as one transfer per month
    and channel instead of one per purchase (the demo: a fifth of the transfers). When every
    customer and account is already there, nothing is posted again (a re-run is a no-op).

    Returns counts: customers imported, accounts opened, transfers created / already there /
    refused (a refusal is a business answer, e.g. insufficient funds, not an error)."""
    from rongshu.kernel import clock

    end_on = end_on or clock.get_business_date()
    say = progress or (lambda _msg: None)
    batch = min(batch, MAX_BATCH)
    counts = {"customers": 0, "accounts": 0, "created": 0, "exists": 0, "refused": 0}
    if ledger_queries.find_transfer(one_id(seed, "txn", 1 << 63)) is not None:
        counts["accounts"] = customers
        counts["exists"] = -1  # loaded before (the first customer's opening deposit is there)
        return counts
    ledger.do_create_chart_of_accounts(["CNY"])
    bank = {name: ledger.get_chart_account(code).public_id for name, code in CHART.items()}
    periods = money.months_of(end_on, months)
    end = to_days(end_on)
    blocks = (customers + BLOCK - 1) // BLOCK
    ledger_of: dict[int, dict[int, uuid.UUID]] = {}
    loan_of: dict[tuple[int, int, int], uuid.UUID] = {}  # (block, local index, slot) → account
    owed_now: dict[uuid.UUID, int] = {}  # a loan account's outstanding principal
    before = periods[0][0] - 1  # the opening balances are booked the day before the window
    pending: list[TransferIn] = []

    def flush() -> None:
        for result in ledger.do_create_transfers(pending):
            key = result.result if result.result in ("created", "exists") else "refused"
            counts[key] += 1
        pending.clear()

    def post(item: TransferIn) -> None:
        pending.append(item)
        if len(pending) >= batch:
            flush()

    plans = {}
    states = {}
    to_open: list[Any] = []
    openings: list[TransferIn] = []
    for block in range(blocks):
        people = generate_people(seed, block, end_on)
        lives = generate_lives(people)
        size = min(BLOCK, customers - block * BLOCK)
        cids = _uuids(id_array(seed, "customer", people.index[:size]))
        rows = [
            identity.CustomerImport(
                customer_id=cids[i],
                phone=people.phone(i),
                real_name=people.name(i),
                resident_id=people.resident_id(i),
            )
            for i in range(size)
        ]
        counts["customers"] += len(identity.do_import_customers(rows))
        opened = accounts.do_import_type1_accounts(
            [accounts.Type1Import(r.customer_id, r.real_name, r.phone) for r in rows],
            only_existing=True,
        )
        for r in rows:
            if r.customer_id not in opened:
                # the ledger account now, the Type I account once the history is posted
                ledger_id = ledger.do_create_customer_account(
                    owner_id=str(r.customer_id),
                    name=f"{r.real_name} {PRODUCTS['demand_deposit']}",
                    product_code="demand_deposit",
                ).public_id
                opened[r.customer_id] = ledger_id
                to_open.append(accounts.Type1Import(r.customer_id, r.real_name, r.phone, ledger_id))
        ledger_of[block] = {i: opened[cids[i]] for i in range(size) if cids[i] in opened}
        counts["accounts"] += len(ledger_of[block])
        plans[block] = inject(seed, block, people, lives, periods, customers)
        states[block] = money.new_state(lives)
        # opening balance before the window, and the loan book (outstanding principal) on
        # each customer's loan account; loans taken out in the window get theirs too. The book
        # is the principal at the end of the day before the window: an instalment due on the
        # window's first day is one of the window's (money.month_rows), not paid twice
        owed_by_slot = {s: -money.loan_balance(lives, s, before) for s in LOANS}
        months_of = {2: lives.mortgage_months, 3: lives.car_loan_months}
        start_of = {2: lives.home, 3: lives.car}
        for i, opened_id in ledger_of[block].items():
            gid = int(people.index[i])
            opening = int(lives.opening_balance[i])
            if opening > 0:
                openings.append(
                    _t(
                        seed,
                        (1 << 63) | (gid << 4),
                        bank["beps"],
                        opened_id,
                        opening,
                        "opening",
                        {"booked_on": to_date(before).isoformat(), "opening": True},
                    )
                )
            for slot, (product, label, _rate) in LOANS.items():
                owed = int(owed_by_slot[slot][i])
                fresh = (
                    int(months_of[slot][i]) > 0 and periods[0][0] <= int(start_of[slot][i]) <= end
                )
                if owed <= 0 and not fresh:
                    continue
                loan_id = ledger.do_create_account(
                    name=f"{people.name(i)} {label}",
                    currency="CNY",
                    kind="asset",
                    owner_id=str(cids[i]),
                    product_code=product,
                ).public_id
                loan_of[(block, i, slot)] = loan_id
                owed_now[loan_id] = max(owed, 0)
                if owed > 0:
                    openings.append(
                        _t(
                            seed,
                            (1 << 63) | (gid << 4) | slot,
                            loan_id,
                            bank["hvps"],
                            owed,
                            "loan_book",
                            {"booked_on": to_date(before).isoformat(), "opening": True},
                        )
                    )
        say(f"bank: {min((block + 1) * BLOCK, customers):,}/{customers:,} customers imported")
    if counts["customers"] == 0 and not to_open:
        counts["exists"] = -1  # loaded before: nothing to do
        return counts
    for item in openings:
        post(item)
    for month, (first, last) in enumerate(periods):
        for block in range(blocks):
            people = generate_people(seed, block, end_on)
            lives = generate_lives(people)
            last_due = {
                2: money.loan_end(lives.home, lives.mortgage_months),
                3: money.loan_end(lives.car, lives.car_loan_months),
            }
            rows_ = money.month_rows(
                people,
                lives,
                states[block],
                month,
                first,
                last,
                customers=customers,
                companies=max(4, customers // 40),
            )
            rows_ = plans[block].apply(rows_, first, last)
            money.update_state(states[block], rows_)
            first_id = (block << 40) | (month << 28)
            accs = ledger_of[block]
            local_of = {int(g): i for i, g in enumerate(people.index.tolist())}
            on_current = np.flatnonzero(rows_["slot"] == 0)
            if spending == "monthly":
                spend = np.isin(rows_["kind"], (K["card"], K["qr"])) & (rows_["slot"] == 0)
                on_current = on_current[~spend[on_current]]
                for kind_, cross in ((K["card"], 0), (K["qr"], 0), (K["card"], 1), (K["qr"], 1)):
                    sel = spend & (rows_["kind"] == kind_) & (rows_["cross"] == bool(cross))
                    total = np.bincount(
                        rows_["cust"][sel], weights=-rows_["amount"][sel], minlength=BLOCK
                    )
                    country = np.zeros(BLOCK, dtype=np.int64)
                    country[rows_["cust"][sel]] = rows_["country"][sel]
                    last_day = np.zeros(BLOCK, dtype=np.int64)
                    np.maximum.at(last_day, rows_["cust"][sel], rows_["day"][sel])
                    for i in np.flatnonzero(total > 0).tolist():
                        spender = accs.get(i)
                        if spender is None:
                            continue
                        key = (
                            (1 << 62)
                            | (cross << 61)
                            | (block << 40)
                            | (month << 28)
                            | (i << 1)
                            | (kind_ == K["qr"])
                        )
                        bank_leg = bank["nucc"] if kind_ == K["qr"] else bank["unionpay"]
                        if cross:
                            bank_leg = bank["hvps"]
                        meta = _meta(
                            int(last_day[i]),
                            20 * 3600,
                            kind_,
                            money.C["qr" if kind_ == K["qr"] else "pos"],
                            cross_border=True if cross else None,
                            country=COUNTRIES[int(country[i])] if cross else None,
                        )
                        code = _CODES[kind_]
                        post(_t(seed, key, spender, bank_leg, int(total[i]), code, meta))
            # loans taken out in the window: the loan account pays the seller (another bank)
            for k in np.flatnonzero(rows_["kind"] == K["loan_disbursement"]).tolist():
                i, slot = int(rows_["cust"][k]), int(rows_["slot"][k])
                lent = loan_of.get((block, i, slot))
                if lent is None:
                    continue
                amount = -int(rows_["amount"][k])
                owed_now[lent] += amount
                key = (1 << 63) | (1 << 62) | (block << 40) | (month << 28) | (i << 4) | slot
                post(
                    _t(
                        seed,
                        key,
                        lent,
                        bank["ibps"],
                        amount,
                        "loan_disbursement",
                        _row_meta(rows_, k),
                    )
                )
            txn_ids = _uuids(id_array(seed, "txn", (first_id + on_current).astype(np.uint64)))
            for k, txn_id in zip(on_current.tolist(), txn_ids, strict=True):
                i = int(rows_["cust"][k])
                acc = accs.get(i)
                if acc is None:
                    continue
                kind = int(rows_["kind"][k])
                amount = int(rows_["amount"][k])
                tag, cp = int(rows_["cp_tag"][k]), int(rows_["cp_idx"][k])
                other = None
                if tag == TAGS["customer"] and cp in local_of:
                    other = accs.get(local_of[cp])
                if kind == K["transfer_in"] and other is not None:
                    continue  # posted once, from the payer's side
                bank_leg = _bank_leg(kind, int(rows_["channel"][k]), bool(rows_["cross"][k]), bank)
                if kind in (K["loan_disbursement"],):
                    continue
                meta = _row_meta(rows_, k)
                if kind == K["loan_repayment"]:
                    repaid = loan_of.get((block, i, cp % SLOTS))
                    if repaid is not None:
                        # the month's interest is charged to the loan account first, so that
                        # what the instalment leaves owing is the outstanding principal
                        rate = LOANS[cp % SLOTS][2]
                        interest = min(round(owed_now[repaid] * rate / 12), -amount)
                        if int(rows_["day"][k]) == int(last_due[cp % SLOTS][i]):
                            # the last instalment settles the loan: what the rounded
                            # instalments left (a few fen either way), so it ends at zero
                            amount = -(owed_now[repaid] + interest)
                        owed_now[repaid] += interest + amount
                        if interest > 0:
                            charge = dict(meta, kind="interest")
                            post(
                                _t(
                                    seed,
                                    (1 << 63) | (1 << 61) | (block << 40) | (month << 28) | k,
                                    repaid,
                                    bank["interest_income"],
                                    interest,
                                    "loan_interest",
                                    charge,
                                )
                            )
                        bank_leg = repaid
                        if amount == 0:
                            continue  # settled already: nothing left to pay
                counter = other if other is not None else bank_leg
                code = _CODES.get(kind, "transfer")
                if amount >= 0:
                    post(TransferIn(txn_id, counter, acc, amount, "CNY", code, metadata=meta))
                else:
                    post(TransferIn(txn_id, acc, counter, -amount, "CNY", code, metadata=meta))
        say(f"bank: month {month + 1}/{len(periods)} ({to_date(first):%Y-%m}) posted")
    flush()

    def open_accounts() -> None:
        # after commit, so the history's movements (delivered to the notification centre on
        # commit) do not become thousands of messages: the customers join afterwards
        with transaction.atomic():
            accounts.do_import_type1_accounts(to_open)

    if to_open:
        transaction.on_commit(open_accounts)
    _ = end
    return counts


def _bank_leg(kind: int, channel: int, cross: bool, bank: dict[str, uuid.UUID]) -> uuid.UUID:
    if kind in (K["salary"], K["pension"]):
        return bank["beps"]
    if kind == K["interest"]:
        return bank["interest"]
    if kind == K["loan_repayment"]:
        return bank["loans"]
    if kind == K["cash"]:
        return bank["cash"]
    if kind == K["fx"] or cross:
        return bank["hvps"]
    if kind == K["qr"]:
        return bank["nucc"]
    if kind == K["card"]:
        return bank["unionpay"]
    return bank["ibps"]


def _t(
    seed: int,
    txn: int,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: int,
    code: str,
    metadata: dict[str, Any] | None = None,
) -> TransferIn:
    return TransferIn(
        one_id(seed, "txn", txn), debit, credit, amount, "CNY", code, metadata=metadata or {}
    )
