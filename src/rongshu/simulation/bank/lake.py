"""Write the insight lake (``docs/lake.md``) straight from the generator, in constant memory.

Month by month, block by block: each block of people is regenerated from its seed (cheap,
vectorised) instead of being kept, and each day's rows go to that day's Parquet file as row
groups of at most :data:`ROW_GROUP` rows. What stays in memory between blocks is 16 bytes of
balance per customer plus the open month's row buffers (at most ``MAX_BUFFERED`` rows in all).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rongshu.insight.types import (
    ACCOUNTS_SCHEMA,
    BALANCES_SCHEMA,
    CUSTOMERS_SCHEMA,
    TRANSACTIONS_SCHEMA,
)
from rongshu.simulation.bank import money
from rongshu.simulation.bank import spending as sp
from rongshu.simulation.bank.companies import Company, company, company_count
from rongshu.simulation.bank.ids import BLOCK, id_array, id_array_tagged
from rongshu.simulation.bank.lives import NEVER, Lives, generate_lives
from rongshu.simulation.bank.money import SLOTS, State
from rongshu.simulation.bank.people import People, generate_people, to_date, to_days
from rongshu.simulation.bank.typologies import inject

ROW_GROUP = 20_000
MAX_BUFFERED = 120_000  # rows held in memory across all of a month's day files
TABLES = ("customers", "accounts", "transactions", "balances", "events", "ground_truth")

LIFE_SCHEMA = pa.schema([("customer_id", pa.string()), ("event", pa.string()), ("on", pa.date32())])
# Spells of a life that last (a loan's term, a stay abroad): begun on or before the end date;
# ``to_on`` is when the spell ends or is scheduled to end, which may lie after the end date.
SPELL_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("spell", pa.string()),
        ("from_on", pa.date32()),
        ("to_on", pa.date32()),
    ]
)
TYPOLOGY_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("typology", pa.string()),
        ("from_on", pa.date32()),
        ("to_on", pa.date32()),
    ]
)

_KINDS = pa.array(money.KINDS)
_CHANNELS = pa.array(money.CHANNELS)
_MCC = pa.array([m.code for m in sp.ALL_MCC])
_NEED = pa.array([m.need for m in sp.ALL_MCC])
_COUNTRIES = pa.array(money.COUNTRIES)
_PRODUCTS = pa.array(money.PRODUCTS)
_EPOCH_US = 1_000_000


def default_end_on() -> dt.date:
    """The business date when Django is configured, else today in Beijing."""
    try:
        from django.conf import settings

        if settings.configured:
            from rongshu.kernel import clock

            return clock.get_business_date()
    except Exception:  # noqa: S110 - no database: fall back to the calendar
        pass
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(
        path, schema, compression="zstd", compression_level=1, write_statistics=True
    )


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.int32()).cast(pa.date32())


def _nullable_dates(days: np.ndarray) -> pa.Array:
    mask = days >= NEVER
    return pa.array(np.where(mask, 0, days).astype(np.int32), mask=mask, type=pa.int32()).cast(
        pa.date32()
    )


class _Buffered:
    """A Parquet file written in row groups of about ``ROW_GROUP`` rows."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        self.parts: list[pa.Table] = []
        self.rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.total = 0

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.parts.append(table)
        self.rows += table.num_rows
        if self.rows >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        if self.writer is None:
            self.writer = _writer(self.path, self.schema)
        self.writer.write_table(pa.concat_tables(self.parts), row_group_size=ROW_GROUP * 2)
        self.total += self.rows
        self.parts, self.rows = [], 0

    def close(self) -> int:
        self.flush()
        if self.writer is None:  # nothing at all: an empty file keeps the layout readable
            self.writer = _writer(self.path, self.schema)
            self.writer.write_table(self.schema.empty_table())
        self.writer.close()
        return self.total


def _txn_table(
    seed: int, rows: dict[str, np.ndarray], people_index: np.ndarray, first_id: int
) -> pa.Table:
    n = len(rows["cust"])
    gidx = people_index[rows["cust"]]
    mcc = rows["mcc"]
    has_mcc = mcc >= 0
    safe_mcc = pa.array(np.where(has_mcc, mcc, 0))
    booked = (rows["day"] * 86_400 + rows["sec"] - 8 * 3600) * _EPOCH_US
    return pa.table(
        {
            "txn_id": id_array(seed, "txn", np.arange(first_id, first_id + n, dtype=np.uint64)),
            "customer_id": id_array(seed, "customer", gidx),
            "account_id": id_array(seed, "account", gidx * SLOTS + rows["slot"]),
            "booked_at": pa.array(booked, type=pa.timestamp("us", tz="UTC")),
            "amount_minor": pa.array(rows["amount"], type=pa.int64()),
            "currency": pa.array(np.full(n, "CNY", dtype=object), type=pa.string()),
            "kind": pc.take(_KINDS, pa.array(rows["kind"])),
            "channel": pc.take(_CHANNELS, pa.array(rows["channel"])),
            "mcc": pc.if_else(
                pa.array(has_mcc), pc.take(_MCC, safe_mcc), pa.scalar(None, pa.string())
            ),
            "need_category": pc.if_else(
                pa.array(has_mcc), pc.take(_NEED, safe_mcc), pa.scalar(None, pa.string())
            ),
            "counterparty_id": id_array_tagged(
                seed, rows["cp_tag"], rows["cp_idx"].astype(np.uint64)
            ),
            "cross_border": pa.array(rows["cross"], type=pa.bool_()),
            "country": pc.take(_COUNTRIES, pa.array(rows["country"])),
        },
        schema=TRANSACTIONS_SCHEMA,
    )


def _customers_table(
    seed: int, people: People, lives: Lives, keep: np.ndarray, companies: int
) -> pa.Table:
    idx = people.index[keep]
    county = np.array([f"{c:06d}" for c in people.county[keep].tolist()], dtype=object)
    from rongshu.simulation.bank.reference import city_code

    employed = (lives.first_job[keep] <= to_days(people.end_on)) & (
        lives.retirement[keep] > to_days(people.end_on)
    )
    employer = (people.employer_hash[keep] % np.uint64(companies)).astype(np.uint64)
    employer_ids = id_array(seed, "company", employer)
    return pa.table(
        {
            "customer_id": id_array(seed, "customer", idx),
            "kind": pa.array(np.full(len(idx), "person", dtype=object), type=pa.string()),
            "gender": pa.array(
                np.where(people.female[keep], "F", "M").astype(object), type=pa.string()
            ),
            "birth_on": _dates(people.birth[keep]),
            "province_code": pa.array([c[:2] + "0000" for c in county], type=pa.string()),
            "city_code": pa.array([city_code(c) for c in county], type=pa.string()),
            "district_code": pa.array(county, type=pa.string()),
            "onboarded_on": _dates(lives.onboarded[keep]),
            "employer_id": pc.if_else(
                pa.array(employed), employer_ids, pa.scalar(None, pa.string())
            ),
            "kyc_level": pa.array(np.where(lives.credit_card[keep], 3, 2).astype(np.int32)),
            "profiling_consent": pa.array((people.street_seed[keep] % np.uint64(10)) < 8),
        },
        schema=CUSTOMERS_SCHEMA,
    )


def _accounts(people: People, lives: Lives, keep: np.ndarray, end: int) -> dict[str, np.ndarray]:
    """Account slots that exist: (local index, slot, opened, closed)."""
    out: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    local = np.flatnonzero(keep)
    never = np.full(len(local), NEVER)
    out.append((local, 0, lives.onboarded[local], never))
    cc = local[lives.credit_card[local]]
    out.append((cc, 1, lives.onboarded[cc] + 30, np.full(len(cc), NEVER)))
    for slot, start, months in (
        (2, lives.home, lives.mortgage_months),
        (3, lives.car, lives.car_loan_months),
    ):
        has = local[(months[local] > 0) & (start[local] <= end)]
        closed = money.loan_end(start[has], months[has])  # the last instalment's day
        out.append((has, slot, start[has], np.where(closed <= end, closed, NEVER)))
    fund = local[lives.fund[local]]
    out.append((fund, 4, lives.onboarded[fund] + 60, np.full(len(fund), NEVER)))
    cust = np.concatenate([o[0] for o in out])
    slots = np.concatenate([np.full(len(o[0]), o[1]) for o in out])
    opened = np.concatenate([o[2] for o in out])
    closes = np.concatenate([o[3] for o in out])
    order = np.lexsort((slots, cust))
    return {
        "cust": cust[order],
        "slot": slots[order],
        "opened": np.minimum(opened[order], end),
        "closed": closes[order],
    }


def _accounts_table(seed: int, people: People, acc: dict[str, np.ndarray]) -> pa.Table:
    gidx = people.index[acc["cust"]]
    return pa.table(
        {
            "account_id": id_array(seed, "account", gidx * SLOTS + acc["slot"]),
            "customer_id": id_array(seed, "customer", gidx),
            "product_code": pc.take(_PRODUCTS, pa.array(acc["slot"])),
            "opened_on": _dates(acc["opened"]),
            "closed_on": _nullable_dates(acc["closed"]),
            "currency": pa.array(np.full(len(gidx), "CNY", dtype=object), type=pa.string()),
        },
        schema=ACCOUNTS_SCHEMA,
    )


def _life_table(seed: int, people: People, lives: Lives, keep: np.ndarray, end: int) -> pa.Table:
    cols = [
        ("first_job", lives.first_job),
        ("marriage", lives.marriage),
        ("child", lives.child1),
        ("child", lives.child2),
        ("home_purchase", lives.home),
        ("car_purchase", lives.car),
        ("abroad", lives.abroad_from),
        ("retirement", lives.retirement),
    ]
    cust, names, days = [], [], []
    local = np.flatnonzero(keep)
    for name, arr in cols:
        happened = local[arr[local] <= end]
        cust.append(happened)
        names.append(np.full(len(happened), name, dtype=object))
        days.append(arr[happened])
    c, nm, d = np.concatenate(cust), np.concatenate(names), np.concatenate(days)
    order = np.lexsort((d, c))
    return pa.table(
        {
            "customer_id": id_array(seed, "customer", people.index[c[order]]),
            "event": pa.array(nm[order], type=pa.string()),
            "on": _dates(d[order]),
        },
        schema=LIFE_SCHEMA,
    )


def _spells_table(seed: int, people: People, lives: Lives, keep: np.ndarray, end: int) -> pa.Table:
    """Mortgage and car-loan terms (as :func:`money.active_loan` runs them) and stays abroad."""
    local = np.flatnonzero(keep)
    cust, names, starts, ends = [], [], [], []
    for name, start, months in (
        ("mortgage", lives.home, lives.mortgage_months),
        ("car_loan", lives.car, lives.car_loan_months),
    ):
        has = local[(months[local] > 0) & (start[local] <= end)]
        cust.append(has)
        names.append(np.full(len(has), name, dtype=object))
        starts.append(start[has])
        ends.append(money.loan_end(start[has], months[has]))
    away = local[lives.abroad_from[local] <= end]
    cust.append(away)
    names.append(np.full(len(away), "abroad", dtype=object))
    starts.append(lives.abroad_from[away])
    ends.append(lives.abroad_to[away])
    c, nm = np.concatenate(cust), np.concatenate(names)
    f, t = np.concatenate(starts), np.concatenate(ends)
    order = np.lexsort((f, c))
    return pa.table(
        {
            "customer_id": id_array(seed, "customer", people.index[c[order]]),
            "spell": pa.array(nm[order], type=pa.string()),
            "from_on": _dates(f[order]),
            "to_on": _dates(t[order]),
        },
        schema=SPELL_SCHEMA,
    )


def _balances_table(
    seed: int, people: People, lives: Lives, state: State, acc: dict[str, np.ndarray], day: int
) -> pa.Table:
    open_now = (acc["opened"] <= day) & (acc["closed"] > day)
    cust, slot = acc["cust"][open_now], acc["slot"][open_now]
    balance = np.zeros(len(cust), dtype=np.int64)
    balance[slot == 0] = state.current[cust[slot == 0]]
    balance[slot == 4] = state.fund[cust[slot == 4]]
    for s in (2, 3):
        balance[slot == s] = money.loan_balance(lives, s, day)[cust[slot == s]]
    gidx = people.index[cust]
    return pa.table(
        {
            "customer_id": id_array(seed, "customer", gidx),
            "account_id": id_array(seed, "account", gidx * SLOTS + slot),
            "product_code": pc.take(_PRODUCTS, pa.array(slot)),
            "balance_minor": pa.array(balance, type=pa.int64()),
            "currency": pa.array(np.full(len(gidx), "CNY", dtype=object), type=pa.string()),
        },
        schema=BALANCES_SCHEMA,
    )


def _company_tables(
    seed: int, companies: int, end: int, rows: list[Company] | None = None
) -> tuple[pa.Table, pa.Table]:
    from rongshu.simulation.bank.reference import city_code

    if rows is None:
        rows = [company(seed, k) for k in range(companies)]
    idx = np.arange(companies, dtype=np.uint64)
    ids = id_array(seed, "company", idx)
    founded = np.array([end - 365 * (3 + (k * 7919) % 15) for k in range(companies)])
    customers = pa.table(
        {
            "customer_id": ids,
            "kind": pa.array(["company"] * companies, type=pa.string()),
            "gender": pa.array([None] * companies, type=pa.string()),
            "birth_on": pa.array([None] * companies, type=pa.date32()),
            "province_code": pa.array([c.county[:2] + "0000" for c in rows], type=pa.string()),
            "city_code": pa.array([city_code(c.county) for c in rows], type=pa.string()),
            "district_code": pa.array([c.county for c in rows], type=pa.string()),
            "onboarded_on": _dates(founded),
            "employer_id": pa.array([None] * companies, type=pa.string()),
            "kyc_level": pa.array(np.full(companies, 3, dtype=np.int32)),
            "profiling_consent": pa.array(np.zeros(companies, dtype=bool)),
        },
        schema=CUSTOMERS_SCHEMA,
    )
    accounts = pa.table(
        {
            "account_id": id_array(seed, "account", (1 << 40) + idx * SLOTS),
            "customer_id": ids,
            "product_code": pa.array(["deposit.current"] * companies, type=pa.string()),
            "opened_on": _dates(founded),
            "closed_on": pa.array([None] * companies, type=pa.date32()),
            "currency": pa.array(["CNY"] * companies, type=pa.string()),
        },
        schema=ACCOUNTS_SCHEMA,
    )
    return customers, accounts


def _company_month(
    seed: int,
    companies: int,
    month: int,
    first: int,
    last: int,
    rows: list[Company] | None = None,
) -> pa.Table:
    """Corporate current accounts: monthly revenue, payroll and payments to suppliers (the
    supplier's side booked too, so chains of money follow the supply chains)."""
    from rongshu.simulation.bank.ids import rng

    r = rng(seed, "companies", 1 << 20, month)
    cust: list[int] = []
    day: list[int] = []
    amount: list[int] = []
    kind: list[str] = []
    cp: list[int] = []
    for k in range(companies):
        c = rows[k] if rows is not None else company(seed, k)
        payroll = c.employees * 7_500_00
        revenue = int(payroll * r.uniform(1.2, 1.6))
        d_rev = first + int(r.integers(0, last - first + 1))
        cust += [k]
        day += [d_rev]
        amount += [revenue]
        kind += ["transfer_in"]
        cp += [-1]
        pay_day = first + c.payday - 1
        if pay_day <= last:
            cust += [k]
            day += [pay_day]
            amount += [-payroll]
            kind += ["salary"]
            cp += [-1]
        for s in c.suppliers:
            amt = int(revenue * r.uniform(0.05, 0.2)) // 100 * 100
            d = first + int(r.integers(0, last - first + 1))
            cust += [k, s]
            day += [d, d]
            amount += [-amt, amt]
            kind += ["transfer_out", "transfer_in"]
            cp += [s, k]
    if not cust:
        return TRANSACTIONS_SCHEMA.empty_table()
    ca, da, aa = np.array(cust, dtype=np.uint64), np.array(day), np.array(amount, dtype=np.int64)
    n = len(ca)
    order = np.lexsort((np.arange(n), da))
    ca, da, aa = ca[order], da[order], aa[order]
    kinds = [kind[i] for i in order.tolist()]
    cps = np.array([cp[i] for i in order.tolist()])
    base = (1 << 62) + (month << 40)
    return pa.table(
        {
            "txn_id": id_array(seed, "txn", np.arange(base, base + n, dtype=np.uint64)),
            "customer_id": id_array(seed, "company", ca),
            "account_id": id_array(seed, "account", (1 << 40) + ca * SLOTS),
            "booked_at": pa.array(
                (da * 86_400 + 3600) * _EPOCH_US, type=pa.timestamp("us", tz="UTC")
            ),
            "amount_minor": pa.array(aa, type=pa.int64()),
            "currency": pa.array(["CNY"] * n, type=pa.string()),
            "kind": pa.array(kinds, type=pa.string()),
            "channel": pa.array(
                ["batch" if k == "salary" else "web" for k in kinds], type=pa.string()
            ),
            "mcc": pa.array([None] * n, type=pa.string()),
            "need_category": pa.array([None] * n, type=pa.string()),
            "counterparty_id": pc.if_else(
                pa.array(cps >= 0),
                id_array(seed, "company", np.maximum(cps, 0).astype(np.uint64)),
                pa.scalar(None, pa.string()),
            ),
            "cross_border": pa.array(np.zeros(n, dtype=bool)),
            "country": pa.array(["CN"] * n, type=pa.string()),
        },
        schema=TRANSACTIONS_SCHEMA,
    )


def write_lake(
    path: Path,
    *,
    customers: int,
    months: int = 12,
    seed: int = 1,
    end_on: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Generate ``customers`` people (plus about one company per 40 of them) and ``months``
    calendar months of their money ending on ``end_on``; write the lake layout under ``path``.

    ``workers`` > 1 splits the people's blocks into that many contiguous ranges, each written
    by its own Python process to its own files, ``part-<worker>.parquet`` in every table
    and day folder (the reader takes every file of a folder); the companies go with the last
    worker and the ground-truth parts are concatenated in worker order, so reading a table's
    files in name order gives exactly the rows of ``workers=1``. The output is a function of
    ``(customers, months, seed, end_on, workers)``. Existing lake tables under ``path`` are
    replaced. Returns counts.
    """
    end_on = end_on or default_end_on()
    say = progress or (lambda _msg: None)
    path = Path(path)
    for table in TABLES:
        if (path / table).exists():
            shutil.rmtree(path / table)
    (path / "events").mkdir(parents=True, exist_ok=True)
    blocks = (customers + BLOCK - 1) // BLOCK
    workers = max(1, min(int(workers), blocks))
    truth = path / "ground_truth"
    if workers == 1:
        return _write_part(path, truth, customers, months, seed, end_on, 0, blocks, 0, True, say)
    bounds = [blocks * w // workers for w in range(workers + 1)]
    staging = truth / "_parts"
    jobs = [
        {
            "path": str(path),
            "truth": str(staging / f"{w:05d}"),
            "customers": customers,
            "months": months,
            "seed": seed,
            "end_on": end_on.isoformat(),
            "first_block": bounds[w],
            "end_block": bounds[w + 1],
            "part": w,
            "with_companies": w == workers - 1,
        }
        for w in range(workers)
    ]
    parts = _run_parts(jobs, say)
    counts = {key: sum(part[key] for part in parts) for key in parts[0]}
    for name, schema in (
        ("life_events", LIFE_SCHEMA),
        ("typologies", TYPOLOGY_SCHEMA),
        ("spells", SPELL_SCHEMA),
    ):
        with _writer(truth / f"{name}.parquet", schema) as out:
            for w in range(workers):
                source = pq.ParquetFile(staging / f"{w:05d}" / f"{name}.parquet")
                for group in range(source.num_row_groups):
                    out.write_table(source.read_row_group(group), row_group_size=ROW_GROUP * 2)
    shutil.rmtree(staging)
    return counts


def _write_part(
    path: Path,
    truth: Path,
    customers: int,
    months: int,
    seed: int,
    end_on: dt.date,
    first_block: int,
    end_block: int,
    part: int,
    with_companies: bool,
    progress: Callable[[str], None] | None,
) -> dict[str, int]:
    """Blocks ``first_block .. end_block - 1`` (and the companies when ``with_companies``)
    to ``part-<part>.parquet`` files; the ground truth to ``truth/``."""
    say = progress or (lambda _msg: None)
    name = f"part-{part:05d}.parquet"
    end = to_days(end_on)
    n_companies = company_count(customers)
    periods = money.months_of(end_on, months)
    states: dict[int, State] = {}
    counts = {
        "customers": 0,
        "companies": n_companies if with_companies else 0,
        "accounts": 0,
        "transactions": 0,
        "balances": 0,
        "life_events": 0,
        "typologies": 0,
        "spells": 0,
    }

    cust_w = _Buffered(path / "customers" / name, CUSTOMERS_SCHEMA)
    acc_w = _Buffered(path / "accounts" / name, ACCOUNTS_SCHEMA)
    life_w = _Buffered(truth / "life_events.parquet", LIFE_SCHEMA)
    typ_w = _Buffered(truth / "typologies.parquet", TYPOLOGY_SCHEMA)
    spell_w = _Buffered(truth / "spells.parquet", SPELL_SCHEMA)
    company_rows = [company(seed, k) for k in range(n_companies)] if with_companies else []

    for month, (first, last) in enumerate(periods):
        day_files = {
            d: _Buffered(
                path / "transactions" / f"date={to_date(d):%Y-%m-%d}" / name,
                TRANSACTIONS_SCHEMA,
            )
            for d in range(first, last + 1)
        }
        bal_w = _Buffered(
            path / "balances" / f"date={to_date(last):%Y-%m-%d}" / name,
            BALANCES_SCHEMA,
        )
        for block in range(first_block, end_block):
            people = generate_people(seed, block, end_on)
            lives = generate_lives(people)
            keep = people.index < customers
            plan = inject(seed, block, people, lives, periods, customers)
            acc = _accounts(people, lives, keep, end)
            if month == 0:
                cust_w.add(_customers_table(seed, people, lives, keep, n_companies))
                acc_w.add(_accounts_table(seed, people, acc))
                life_w.add(_life_table(seed, people, lives, keep, end))
                spell_w.add(_spells_table(seed, people, lives, keep, end))
                typ_w.add(plan.truth_table(seed))
                counts["customers"] += int(keep.sum())
                counts["accounts"] += len(acc["cust"])
                counts["typologies"] += len(plan.items)
                states[block] = money.new_state(lives)
            state = states[block]
            rows = money.month_rows(
                people, lives, state, month, first, last, customers=customers, companies=n_companies
            )
            rows = plan.apply(rows, first, last)
            money.update_state(state, rows)
            first_id = (block << 40) | (month << 28)
            table = _txn_table(seed, rows, people.index, first_id)
            counts["transactions"] += table.num_rows
            if table.num_rows:
                day_col = rows["day"]
                bounds = np.searchsorted(day_col, np.arange(first, last + 2))
                for d in range(first, last + 1):
                    lo, hi = int(bounds[d - first]), int(bounds[d - first + 1])
                    if hi > lo:
                        day_files[d].add(table.slice(lo, hi - lo))
            bal_w.add(_balances_table(seed, people, lives, state, acc, last))
            if sum(w.rows for w in day_files.values()) > MAX_BUFFERED:
                for writer in day_files.values():
                    writer.flush()
        if with_companies:
            company_txns = _company_month(seed, n_companies, month, first, last, company_rows)
            counts["transactions"] += company_txns.num_rows
            if company_txns.num_rows:
                ts = company_txns.column("booked_at")
                local_day = (pc.cast(ts, pa.int64()).to_numpy() // _EPOCH_US + 8 * 3600) // 86_400
                for d in range(first, last + 1):
                    mask = local_day == d
                    if mask.any():
                        day_files[d].add(company_txns.filter(pa.array(mask)))
        for writer in day_files.values():
            writer.close()
        counts["balances"] += bal_w.close()
        say(
            f"month {month + 1}/{len(periods)} ({to_date(first):%Y-%m}): "
            f"{counts['transactions']:,} transactions"
        )
    if with_companies:
        company_customers, company_accounts = _company_tables(seed, n_companies, end, company_rows)
        cust_w.add(company_customers)
        acc_w.add(company_accounts)
        counts["customers"] += n_companies
        counts["accounts"] += n_companies
    cust_w.close()
    acc_w.close()
    counts["life_events"] = life_w.close()
    typ_w.close()
    counts["spells"] = spell_w.close()
    return counts


def _run_parts(jobs: list[dict[str, Any]], say: Callable[[str], None]) -> list[dict[str, int]]:
    """Each job in its own Python process (``python -m rongshu.simulation.bank.lake JOB``: a
    fresh interpreter, independent of how the caller's main module is written); the counts
    come back as JSON in job order. A failed worker stops the others."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    command = [sys.executable, "-m", "rongshu.simulation.bank.lake"]
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module, JSON arguments
            [*command, json.dumps(job)], stdout=subprocess.PIPE, text=True, env=env
        )
        for job in jobs
    ]
    out: list[dict[str, int]] = []
    try:
        for n, proc in enumerate(procs):
            stdout, _ = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"lake worker {n} failed with exit status {proc.returncode}")
            out.append(json.loads(stdout.strip().splitlines()[-1]))
            say(f"worker {n + 1}/{len(procs)} done")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return out


def _part_main(argument: str) -> None:
    import json

    job = json.loads(argument)
    counts = _write_part(
        Path(job["path"]),
        Path(job["truth"]),
        int(job["customers"]),
        int(job["months"]),
        int(job["seed"]),
        dt.date.fromisoformat(job["end_on"]),
        int(job["first_block"]),
        int(job["end_block"]),
        int(job["part"]),
        bool(job["with_companies"]),
        None,
    )
    print(json.dumps(counts))


if __name__ == "__main__":
    import sys

    _part_main(sys.argv[1])
