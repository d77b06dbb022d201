"""A small deterministic lake in the docs/lake.md layout, with a few hand-designed customers
whose indicator values are known, plus seeded filler customers.

Designed customers (as of 2026-06-30):

- ``c-elder``: born 1950-03-01, pension 3,000.00 CNY on the 5th of each of 12 months.
- ``c-mortgage``: a mortgage opened 2026-01-15, balance −1,000,000.00 at every month end.
- ``c-abroad``: three cross-border card payments (JP, JP, US), 500.00 each, in May 2026.
- ``c-car``: a car loan and four fuel payments (MCC 5541) of 300.00 in 2026.
- ``c-diner``: food spend 100.00 on the 10th of each month (12 payments, 6 in the last 6
  months), salary 8,000.00 each month, all by mobile.
- ``c-optout``: withdrew profiling consent — absent from every result.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rongshu.insight.types import LAKE_SCHEMAS

AS_OF = dt.date(2026, 6, 30)
MONTHS = [
    dt.date(2025, 7, 1) + dt.timedelta(days=31 * i) for i in range(12)
]  # any day inside each month Jul 2025 … Jun 2026
MONTH_STARTS = [dt.date(2025 + (6 + i) // 12, (6 + i) % 12 + 1, 1) for i in range(12)]
DESIGNED = ("c-elder", "c-mortgage", "c-abroad", "c-car", "c-diner", "c-optout")
FILLER = 294


def _month_end(first: dt.date) -> dt.date:
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _customer(cid: str, **kw: Any) -> dict[str, Any]:
    row = {
        "customer_id": cid,
        "kind": "person",
        "gender": "F",
        "birth_on": dt.date(1990, 1, 1),
        "province_code": "310000",
        "city_code": "310100",
        "district_code": "310101",
        "onboarded_on": dt.date(2020, 1, 1),
        "employer_id": None,
        "kyc_level": 2,
        "profiling_consent": True,
    }
    row.update(kw)
    return row


class _Txns:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, cid: str, day: dt.date, amount: int, kind: str, **kw: Any) -> None:
        row = {
            "txn_id": f"t{len(self.rows):06d}",
            "customer_id": cid,
            "account_id": f"{cid}-cur",
            "booked_at": dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=dt.UTC),
            "amount_minor": amount,
            "currency": "CNY",
            "kind": kind,
            "channel": "mobile",
            "mcc": None,
            "need_category": None,
            "counterparty_id": None,
            "cross_border": False,
            "country": "CN",
        }
        row.update(kw)
        self.rows.append(row)


NEED_MCC = {
    "clothing": "5651",
    "food": "5812",
    "housing": "4900",
    "transport": "4111",
    "leisure": "7832",
    "medical": "8062",
    "finance": "6300",
}


def build_lake(root: Path, *, filler: int = FILLER, seed: int = 7) -> Path:
    """Write the fixture lake under ``root`` and return it."""
    rng = random.Random(seed)
    customers = [
        _customer("c-elder", birth_on=dt.date(1950, 3, 1), gender="M"),
        _customer("c-mortgage", birth_on=dt.date(1988, 5, 5)),
        _customer("c-abroad", birth_on=dt.date(1992, 7, 7)),
        _customer("c-car", birth_on=dt.date(1985, 9, 9), gender="M"),
        _customer("c-diner", birth_on=dt.date(1996, 2, 2), employer_id="e-1"),
        _customer("c-optout", profiling_consent=False),
    ]
    accounts: list[dict[str, Any]] = []
    txns = _Txns()

    def account(cid: str, product: str, opened: dt.date, suffix: str = "cur") -> None:
        accounts.append(
            {
                "account_id": f"{cid}-{suffix}",
                "customer_id": cid,
                "product_code": product,
                "opened_on": opened,
                "closed_on": None,
                "currency": "CNY",
            }
        )

    for c in customers:
        account(c["customer_id"], "deposit.current", dt.date(2020, 1, 1))
    account("c-mortgage", "loan.mortgage", dt.date(2026, 1, 15), "mtg")
    account("c-car", "loan.car", dt.date(2025, 3, 1), "car")
    for first in MONTH_STARTS:
        txns.add("c-elder", first.replace(day=5), 300_000, "pension", channel="batch")
        txns.add(
            "c-diner",
            first.replace(day=10),
            -10_000,
            "card",
            mcc="5812",
            need_category="food",
            channel="pos",
        )
        txns.add("c-diner", first.replace(day=15), 800_000, "salary", channel="batch")
        txns.add("c-optout", first.replace(day=3), -5_000, "qr", mcc="5812", need_category="food")
    for day, country in ((3, "JP"), (4, "JP"), (20, "US")):
        txns.add(
            "c-abroad",
            dt.date(2026, 5, day),
            -50_000,
            "card",
            channel="pos",
            cross_border=True,
            country=country,
            mcc="5812",
            need_category="food",
        )
    for m in (1, 2, 3, 4):
        txns.add(
            "c-car",
            dt.date(2026, m, 12),
            -30_000,
            "card",
            channel="pos",
            mcc="5541",
            need_category="transport",
        )
    # filler customers with seeded random behaviour
    needs = list(NEED_MCC)
    for n in range(filler):
        cid = f"f-{n:04d}"
        customers.append(
            _customer(
                cid,
                gender=rng.choice("MF"),
                birth_on=dt.date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                onboarded_on=dt.date(rng.randint(2010, 2026), rng.randint(1, 6), 1),
                kyc_level=rng.randint(1, 3),
            )
        )
        account(cid, "deposit.current", dt.date(2015, 1, 1))
        if rng.random() < 0.2:
            account(
                cid,
                rng.choice(["wealth.fund", "card.credit", "loan.consumer"]),
                dt.date(2024, 6, 1),
                "x",
            )
        for _ in range(rng.randint(0, 40)):
            day = AS_OF - dt.timedelta(days=rng.randint(0, 364))
            need = rng.choice(needs)
            txns.add(
                cid,
                day,
                -rng.randint(100, 200_000),
                rng.choice(["card", "qr"]),
                channel=rng.choice(["mobile", "pos", "qr", "web", "atm"]),
                mcc=NEED_MCC[need],
                need_category=need,
                cross_border=rng.random() < 0.03,
            )
        if rng.random() < 0.5:
            for first in MONTH_STARTS[rng.randint(0, 11) :]:
                txns.add(
                    cid,
                    first.replace(day=15),
                    rng.randint(300_000, 3_000_000),
                    "salary",
                    channel="batch",
                )
    # balances at each month end
    balances: dict[dt.date, list[dict[str, Any]]] = {}
    for first in MONTH_STARTS:
        end = _month_end(first)
        rows = balances.setdefault(end, [])
        for c in customers:
            cid = c["customer_id"]
            rows.append(
                {
                    "customer_id": cid,
                    "account_id": f"{cid}-cur",
                    "product_code": "deposit.current",
                    "balance_minor": 1_000_000
                    if cid.startswith("c-")
                    else rng.randint(0, 50_000_000),
                    "currency": "CNY",
                }
            )
        if end >= dt.date(2026, 1, 31):
            rows.append(
                {
                    "customer_id": "c-mortgage",
                    "account_id": "c-mortgage-mtg",
                    "product_code": "loan.mortgage",
                    "balance_minor": -100_000_000,
                    "currency": "CNY",
                }
            )
    write_tables(root, customers, accounts, txns.rows, balances)
    gt = [
        {"customer_id": "c-elder", "event": "retirement", "on": dt.date(2010, 3, 1)},
        {"customer_id": "c-mortgage", "event": "home_purchase", "on": dt.date(2026, 1, 15)},
        {"customer_id": "c-abroad", "event": "abroad", "on": dt.date(2026, 5, 3)},
        {"customer_id": "c-car", "event": "car_purchase", "on": dt.date(2025, 3, 1)},
    ]
    (root / "ground_truth").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(gt), root / "ground_truth" / "life_events.parquet")
    return root


def write_tables(
    root: Path,
    customers: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
    txns: list[dict[str, Any]],
    balances: dict[dt.date, list[dict[str, Any]]],
) -> None:
    for name, rows, schema in (
        ("customers", customers, LAKE_SCHEMAS["customers"]),
        ("accounts", accounts, LAKE_SCHEMAS["accounts"]),
    ):
        (root / name).mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows, schema=schema)
        pq.write_table(table, root / name / "part-0.parquet")
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for row in txns:
        by_day.setdefault(row["booked_at"].date(), []).append(row)
    for day, rows in by_day.items():
        folder = root / "transactions" / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.Table.from_pylist(rows, schema=LAKE_SCHEMAS["transactions"]),
            folder / "part-0.parquet",
        )
    for day, rows in balances.items():
        folder = root / "balances" / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows, schema=LAKE_SCHEMAS["balances"])
        pq.write_table(table, folder / "part-0.parquet")
