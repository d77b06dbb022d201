"""Incremental export of the OLTP tables and outbox events to the lake (docs/lake.md).

``customers/`` and ``accounts/`` are rewritten whole (they are small and change in place);
``transactions/`` and ``events/`` get one ``date=`` folder per exported day, written as
``part-export.parquet`` so re-exporting a day replaces only that day. ``_export_state.json``
keeps the last exported day: a daily run exports the days since then.
"""

from __future__ import annotations

import bisect
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
from rongshu.insight.types import (
    ACCOUNTS_SCHEMA,
    BALANCES_SCHEMA,
    CUSTOMERS_SCHEMA,
    EVENTS_SCHEMA,
    LAKE_KINDS,
    TRANSACTIONS_SCHEMA,
)
from rongshu.kernel import clock
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import queries as ledger_queries

STATE = "_export_state.json"
FIRST_DAY = dt.date(2000, 1, 1)  # a first export starts here: the whole history
# The lake's product codes (docs/lake.md) for the OLTP account products; others pass as they are.
PRODUCT_BY_CODE = {
    "demand_deposit": "deposit.current",
    "e_account_type2": "deposit.current",
    "e_account_type3": "deposit.current",
    "loan_mortgage": "loan.mortgage",
    "loan_car": "loan.car",
    "loan_consumer": "loan.consumer",
    "loan_business": "loan.business",
}
# Customer-owned ledger accounts outside the accounts domain (loans migrated into the ledger)
# are exported when their product maps to one of these lake products.
LEDGER_ONLY_PRODUCTS = frozenset({"loan.mortgage", "loan.car", "loan.consumer", "loan.business"})
KINDS = frozenset(LAKE_KINDS)
BEIJING = dt.timezone(dt.timedelta(hours=8))
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


def _booking(meta: dict[str, Any], created_at: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The business booking date and moment: ``booked_at`` (ISO timestamp) or ``booked_on``
    (ISO date, booked at noon Beijing time) from the transfer's metadata, else when the ledger
    created the transfer (UTC day)."""
    if meta.get("booked_at"):
        at = dt.datetime.fromisoformat(str(meta["booked_at"]))
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        return dt.date.fromisoformat(str(meta.get("booked_on") or at.date())), at.astimezone(dt.UTC)
    if meta.get("booked_on"):
        day = dt.date.fromisoformat(str(meta["booked_on"]))
        return day, dt.datetime.combine(day, dt.time(12), BEIJING).astimezone(dt.UTC)
    return created_at.date(), created_at


def _side_kind(meta: dict[str, Any], code: str, incoming: bool) -> str:
    """The lake ``kind`` of one side: the metadata's ``kind`` (a transfer between customers is
    ``transfer_out`` for the payer and ``transfer_in`` for the payee), else from the code."""
    kind = meta.get("kind")
    if kind in ("transfer_in", "transfer_out"):
        return "transfer_in" if incoming else "transfer_out"
    if isinstance(kind, str) and kind in KINDS:
        return kind
    return _kind(code, incoming)


def _ledger_only_accounts(known: set[str]) -> list[dict[str, Any]]:
    """Customer-owned ledger accounts that the accounts domain does not hold (loans booked into
    the ledger by a migration), with a lake product code; ``negate`` marks asset accounts."""
    out: list[dict[str, Any]] = []
    for view in ledger_queries.list_accounts(owner_type="customer", limit=10**9):
        product = PRODUCT_BY_CODE.get(view.product_code, view.product_code)
        if str(view.public_id) in known or product not in LEDGER_ONLY_PRODUCTS:
            continue
        out.append(
            {
                "account_id": str(view.public_id),
                "customer_id": view.owner_id,
                "ledger_account_id": str(view.public_id),
                "product_code": product,
                "currency": view.currency,
                "opened_on": view.created_at.date(),
                "closed_on": view.created_at.date() if view.status == "closed" else None,
                "negate": view.kind == "asset",
            }
        )
    return out


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
    _write(
        pa.Table.from_pylist(customers, schema=CUSTOMERS_SCHEMA),
        lake / "customers",
        "part-0.parquet",
    )
    accounts = [
        {**a, "product_code": PRODUCT_BY_CODE.get(str(a["product_code"]), a["product_code"])}
        for a in accounts_queries.export_accounts()
    ]
    accounts += _ledger_only_accounts({str(a["ledger_account_id"]) for a in accounts})
    owner: dict[str, dict[str, Any]] = {str(a["ledger_account_id"]): a for a in accounts}
    counts = {
        "customers": len(customers),
        "accounts": len(accounts),
        "transactions": 0,
        "balances": 0,
        "events": 0,
    }
    if start > last_day:
        _write_accounts(lake, accounts)
        return counts
    zone = dt.UTC
    since_at = dt.datetime.combine(start, dt.time(), zone)
    until_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone)
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    # per ledger account: booking day → net movement (+ in, − out) of the transfers read here
    moved: dict[str, dict[dt.date, int]] = {}
    for t in ledger_queries.export_transfers(since_at, until_at):
        meta = t["metadata"] if isinstance(t["metadata"], dict) else {}
        created = t["created_at"]
        assert isinstance(created, dt.datetime)
        day, booked = _booking(meta, created)
        for side, sign in (("debit_account_id", -1), ("credit_account_id", 1)):
            acc = owner.get(str(t[side]))
            if acc is None:
                continue
            amount = sign * int(str(t["amount"]))
            net = moved.setdefault(str(t[side]), {})
            net[day] = net.get(day, 0) + amount
            if day < acc["opened_on"]:
                acc["opened_on"] = day
            if meta.get("opening"):
                continue  # a migrated opening balance: it moves the balance, it is no transaction
            other = t["credit_account_id" if sign < 0 else "debit_account_id"]
            by_day.setdefault(day, []).append(
                {
                    "txn_id": f"{t['transfer_id']}:{'d' if sign < 0 else 'c'}",
                    "customer_id": acc["customer_id"],
                    "account_id": acc["account_id"],
                    "booked_at": booked,
                    "amount_minor": amount,
                    "currency": t["currency"],
                    "kind": _side_kind(meta, str(t["code"]), sign > 0),
                    "channel": str(meta.get("channel", "mobile")),
                    "mcc": meta.get("mcc"),
                    "need_category": meta.get("need_category"),
                    "counterparty_id": str(meta.get("counterparty_id") or other),
                    "cross_border": bool(meta.get("cross_border", False)),
                    "country": str(meta.get("country", "CN")),
                }
            )
    _write_accounts(lake, accounts)
    for day, rows in by_day.items():
        _write(
            pa.Table.from_pylist(rows, schema=TRANSACTIONS_SCHEMA),
            lake / "transactions" / f"date={day.isoformat()}",
            "part-export.parquet",
        )
        counts["transactions"] += len(rows)
    counts["balances"] = _export_balances(lake, owner, moved, start, last_day)
    counts["events"] = _export_events(lake, since_at, until_at)
    (lake / STATE).write_text(json.dumps({"last_day": last_day.isoformat()}))
    return counts


def _write_accounts(lake: Path, accounts: list[dict[str, Any]]) -> None:
    _write(
        pa.Table.from_pylist(
            [{k: a[k] for k in ACCOUNTS_SCHEMA.names} for a in accounts], schema=ACCOUNTS_SCHEMA
        ),
        lake / "accounts",
        "part-0.parquet",
    )


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
    lake: Path,
    owner: dict[str, dict[str, Any]],
    moved: dict[str, dict[dt.date, int]],
    start: dt.date,
    last_day: dt.date,
) -> int:
    """Month-end balances of every customer account by booking date: the ledger's balance at
    the end of ``last_day`` (from its append-only transfers) less the movements read by this
    export that are booked after the snapshot day. Without backdated bookings this is the
    ledger's balance at the end of each UTC day. An account with no transfer booked by a day is
    left out for that day. Balances have the lake's sign (+ the customer's money, − owed)."""
    days = snapshot_days(start, last_day)
    before = dt.datetime.combine(start, dt.time(), dt.UTC) - dt.timedelta(microseconds=1)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), dt.UTC) - dt.timedelta(
        microseconds=1
    )
    earlier: set[str] = set()
    final: dict[str, int] = {}
    for moment, ledger_id, balance in ledger_queries.export_balances_at(
        [uuid.UUID(k) for k in owner], [before, end]
    ):
        key = str(ledger_id)
        if moment == before:
            earlier.add(key)
        else:
            final[key] = -balance if owner[key].get("negate") else balance
    # per account, its movement days in order and the movement booked after each of them, so
    # a snapshot day costs a bisection instead of a pass over every day the account moved
    history: dict[str, tuple[list[dt.date], list[int]]] = {}
    for key, net in moved.items():
        ordered = sorted(net)
        after = [0] * (len(ordered) + 1)
        for i in range(len(ordered) - 1, -1, -1):
            after[i] = after[i + 1] + net[ordered[i]]
        history[key] = (ordered, after)
    total = 0
    for day in days:
        rows: list[dict[str, Any]] = []
        for key, balance in final.items():
            ordered, after = history.get(key, ([], [0]))
            if key not in earlier and not (ordered and ordered[0] <= day):
                continue
            acc = owner[key]
            rows.append(
                {
                    "customer_id": acc["customer_id"],
                    "account_id": acc["account_id"],
                    "product_code": acc["product_code"],
                    "balance_minor": balance - after[bisect.bisect_right(ordered, day)],
                    "currency": acc["currency"],
                }
            )
        _write(
            pa.Table.from_pylist(rows, schema=BALANCES_SCHEMA),
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
            pa.Table.from_pylist(items, schema=EVENTS_SCHEMA),
            lake / "events" / f"date={day.isoformat()}",
            "part-export.parquet",
        )
        total += len(items)
    return total
