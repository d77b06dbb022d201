"""Incremental export of the OLTP tables and outbox events to the lake (docs/lake.md).

``customers/`` and ``accounts/`` are rewritten whole (they are small and change in place);
``transactions/`` and ``events/`` get one ``date=`` folder per exported day, written as
``part-export.parquet`` so re-exporting a day replaces only that day. ``_export_state.json``
keeps the last exported day: a daily run exports the days since then.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rongshu.accounts import queries as accounts_queries
from rongshu.identity import queries as identity_queries
from rongshu.kernel import clock
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import queries as ledger_queries

STATE = "_export_state.json"
FIRST_DAY = dt.date(2000, 1, 1)  # a first export starts here: the whole history
CUSTOMERS = pa.schema(
    [
        ("customer_id", pa.string()),
        ("kind", pa.string()),
        ("gender", pa.string()),
        ("birth_on", pa.date32()),
        ("province_code", pa.string()),
        ("city_code", pa.string()),
        ("district_code", pa.string()),
        ("onboarded_on", pa.date32()),
        ("employer_id", pa.string()),
        ("kyc_level", pa.int32()),
        ("profiling_consent", pa.bool_()),
    ]
)
ACCOUNTS = pa.schema(
    [
        ("account_id", pa.string()),
        ("customer_id", pa.string()),
        ("product_code", pa.string()),
        ("opened_on", pa.date32()),
        ("closed_on", pa.date32()),
        ("currency", pa.string()),
    ]
)
TRANSACTIONS = pa.schema(
    [
        ("txn_id", pa.string()),
        ("customer_id", pa.string()),
        ("account_id", pa.string()),
        ("booked_at", pa.timestamp("us", tz="UTC")),
        ("amount_minor", pa.int64()),
        ("currency", pa.string()),
        ("kind", pa.string()),
        ("channel", pa.string()),
        ("mcc", pa.string()),
        ("need_category", pa.string()),
        ("counterparty_id", pa.string()),
        ("cross_border", pa.bool_()),
        ("country", pa.string()),
    ]
)
BALANCES = pa.schema(
    [
        ("customer_id", pa.string()),
        ("account_id", pa.string()),
        ("product_code", pa.string()),
        ("balance_minor", pa.int64()),
        ("currency", pa.string()),
    ]
)
EVENTS = pa.schema(
    [
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("customer_id", pa.string()),
        ("payload", pa.string()),
    ]
)
# The lake's product codes (docs/lake.md) for the OLTP account products; others pass as they are.
PRODUCT_BY_CODE = {
    "demand_deposit": "deposit.current",
    "e_account_type2": "deposit.current",
    "e_account_type3": "deposit.current",
}
# Transaction ``kind`` from the ledger transfer's code: the first needle found in the code wins
# (documented in docs/lake.md); anything else is a transfer, in or out by the side.
KIND_BY_CODE = (
    ("salary", "salary"),
    ("payroll", "salary"),
    ("pension", "pension"),
    ("interest", "interest"),
    ("fee", "fee"),
    ("disburse", "loan_disbursement"),
    ("repay", "loan_repayment"),
    ("bill", "bill"),
    ("qr", "qr"),
    ("card", "card"),
    ("fx", "fx"),
    ("cash", "cash"),
    ("invest", "investment"),
)


def _kind(code: str, incoming: bool) -> str:
    lower = code.lower()
    for needle, kind in KIND_BY_CODE:
        if needle in lower:
            return kind
    return "transfer_in" if incoming else "transfer_out"


def _write(table: pa.Table, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    pq.write_table(table, tmp)
    tmp.replace(folder / name)


def _state(lake: Path) -> dt.date | None:
    path = lake / STATE
    if not path.exists():
        return None
    return dt.date.fromisoformat(json.loads(path.read_text())["last_day"])


def export_lake(
    lake: Path, *, until: dt.date | None = None, since: dt.date | None = None
) -> dict[str, Any]:
    """Export days after the last exported one (or ``since``) up to ``until`` (default the
    business date). Returns counts per table."""
    last_day = until or clock.get_business_date()
    start = since or ((_state(lake) or FIRST_DAY - dt.timedelta(days=1)) + dt.timedelta(days=1))
    customers = [
        {
            "kind": "person",
            "gender": None,
            "birth_on": None,
            "city_code": None,
            "district_code": None,
            "employer_id": None,
            "kyc_level": 1,
            **row,
        }
        for row in identity_queries.export_customers()
    ]
    _write(pa.Table.from_pylist(customers, schema=CUSTOMERS), lake / "customers", "part-0.parquet")
    accounts = [
        {**a, "product_code": PRODUCT_BY_CODE.get(str(a["product_code"]), a["product_code"])}
        for a in accounts_queries.export_accounts()
    ]
    owner: dict[str, dict[str, Any]] = {str(a["ledger_account_id"]): a for a in accounts}
    _write(
        pa.Table.from_pylist(
            [{k: a[k] for k in ACCOUNTS.names} for a in accounts], schema=ACCOUNTS
        ),
        lake / "accounts",
        "part-0.parquet",
    )
    counts = {
        "customers": len(customers),
        "accounts": len(accounts),
        "transactions": 0,
        "balances": 0,
        "events": 0,
    }
    if start > last_day:
        return counts
    zone = dt.UTC
    since_at = dt.datetime.combine(start, dt.time(), zone)
    until_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone)
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for t in ledger_queries.export_transfers(since_at, until_at):
        meta = t["metadata"] if isinstance(t["metadata"], dict) else {}
        for side, sign in (("debit_account_id", -1), ("credit_account_id", 1)):
            acc = owner.get(str(t[side]))
            if acc is None:
                continue
            other = t["credit_account_id" if sign < 0 else "debit_account_id"]
            booked = t["created_at"]
            assert isinstance(booked, dt.datetime)
            by_day.setdefault(booked.date(), []).append(
                {
                    "txn_id": f"{t['transfer_id']}:{'d' if sign < 0 else 'c'}",
                    "customer_id": acc["customer_id"],
                    "account_id": acc["account_id"],
                    "booked_at": booked,
                    "amount_minor": sign * int(str(t["amount"])),
                    "currency": t["currency"],
                    "kind": _kind(str(t["code"]), sign > 0),
                    "channel": str(meta.get("channel", "mobile")),
                    "mcc": meta.get("mcc"),
                    "need_category": meta.get("need_category"),
                    "counterparty_id": str(other),
                    "cross_border": bool(meta.get("cross_border", False)),
                    "country": str(meta.get("country", "CN")),
                }
            )
    for day, rows in by_day.items():
        _write(
            pa.Table.from_pylist(rows, schema=TRANSACTIONS),
            lake / "transactions" / f"date={day.isoformat()}",
            "part-export.parquet",
        )
        counts["transactions"] += len(rows)
    counts["balances"] = _export_balances(lake, owner, start, last_day)
    counts["events"] = _export_events(lake, since_at, until_at)
    (lake / STATE).write_text(json.dumps({"last_day": last_day.isoformat()}))
    return counts


def snapshot_days(start: dt.date, last_day: dt.date) -> list[dt.date]:
    """The month ends in [start, last_day], and last_day itself (the build reads the latest
    snapshot on or before its as-of date)."""
    days: list[dt.date] = []
    day = start
    while day <= last_day:
        nxt = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        end = nxt - dt.timedelta(days=1)
        if end <= last_day:
            days.append(end)
        day = nxt
    if not days or days[-1] != last_day:
        days.append(last_day)
    return days


def _export_balances(
    lake: Path, owner: dict[str, dict[str, Any]], start: dt.date, last_day: dt.date
) -> int:
    """Month-end balances of every customer account, from the ledger's append-only transfers
    (balance at the end of the UTC day, like the transaction day folders)."""
    days = snapshot_days(start, last_day)
    moments = [
        dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), dt.UTC)
        - dt.timedelta(microseconds=1)
        for d in days
    ]
    by_moment: dict[dt.datetime, list[dict[str, Any]]] = {m: [] for m in moments}
    for moment, ledger_id, balance in ledger_queries.export_balances_at(
        [uuid.UUID(k) for k in owner], moments
    ):
        acc = owner[str(ledger_id)]
        by_moment[moment].append(
            {
                "customer_id": acc["customer_id"],
                "account_id": acc["account_id"],
                "product_code": acc["product_code"],
                "balance_minor": balance,
                "currency": acc["currency"],
            }
        )
    total = 0
    for day, moment in zip(days, moments, strict=True):
        rows = by_moment[moment]
        _write(
            pa.Table.from_pylist(rows, schema=BALANCES),
            lake / "balances" / f"date={day.isoformat()}",
            "part-export.parquet",
        )
        total += len(rows)
    return total


def _export_events(lake: Path, since_at: dt.datetime, until_at: dt.datetime) -> int:
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    rows: Iterable[OutboxEvent] = OutboxEvent.objects.filter(
        created_at__gte=since_at, created_at__lt=until_at
    ).order_by("pk")
    for e in rows:
        payload = e.payload if isinstance(e.payload, dict) else {}
        by_day.setdefault(e.created_at.date(), []).append(
            {
                "event_id": str(e.event_id),
                "type": e.event_type,
                "occurred_at": e.created_at,
                "customer_id": str(payload["customer_id"]) if payload.get("customer_id") else None,
                "payload": json.dumps(payload, ensure_ascii=False, default=str),
            }
        )
    total = 0
    for day, items in by_day.items():
        _write(
            pa.Table.from_pylist(items, schema=EVENTS),
            lake / "events" / f"date={day.isoformat()}",
            "part-export.parquet",
        )
        total += len(items)
    return total
