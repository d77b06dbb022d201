"""The OLTP export writes the lake layout: customers with their profiling consent, accounts,
and one folder per day of transactions and events; a second run exports nothing old again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from rongshu.identity import services as identity
from rongshu.insight import export
from rongshu.kernel import clock
from tests.identity.builders import make_customer

pytestmark = pytest.mark.django_db


def test_export_customers_consent_and_events(tmp_path: Path) -> None:
    yes, no = make_customer(), make_customer()
    identity.do_set_consent(yes.customer_id, "profiling", True)
    identity.do_set_consent(no.customer_id, "profiling", True)
    identity.do_set_consent(no.customer_id, "profiling", False)
    today = clock.now().date()
    counts = export.export_lake(tmp_path, until=today)
    assert counts["customers"] >= 2 and counts["events"] >= 1
    rows = {r["customer_id"]: r for r in pq.read_table(tmp_path / "customers").to_pylist()}
    assert rows[str(yes.customer_id)]["profiling_consent"] is True
    assert rows[str(no.customer_id)]["profiling_consent"] is False
    assert (tmp_path / "events" / f"date={today.isoformat()}" / "part-export.parquet").exists()
    events = pq.read_table(tmp_path / "events" / f"date={today.isoformat()}").to_pylist()
    assert any(e["type"] == "identity.ConsentWithdrawn" for e in events)
    again = export.export_lake(tmp_path, until=today)
    assert again["events"] == 0 and again["transactions"] == 0


def test_kind_from_transfer_code() -> None:
    assert export._kind("payroll.batch", True) == "salary"
    assert export._kind("loan.repay", False) == "loan_repayment"
    assert export._kind("payments.internal", True) == "transfer_in"
    assert export._kind("payments.internal", False) == "transfer_out"


def test_export_balances_birth_date_and_gender(tmp_path: Path) -> None:
    from tests.accounts.builders import customer, deposit, open_type2
    from tests.identity.builders import resident_id

    c = customer()
    account = open_type2(c)
    deposit(account, 12_345_00)
    woman = make_customer(rid=resident_id(born="19580214", serial=2))  # even 17th digit
    today = clock.now().date()
    counts = export.export_lake(tmp_path, until=today)
    assert counts["balances"] >= 1
    snap = pq.read_table(tmp_path / "balances" / f"date={today.isoformat()}").to_pylist()
    mine = [r for r in snap if r["customer_id"] == str(c.fixture.customer_id)]
    assert [(r["product_code"], r["balance_minor"]) for r in mine] == [
        ("deposit.current", 12_345_00)
    ]
    rows = {r["customer_id"]: r for r in pq.read_table(tmp_path / "customers").to_pylist()}
    assert str(rows[str(c.fixture.customer_id)]["birth_on"]) == "1990-01-01"
    assert rows[woman.customer_id]["gender"] == "F"
    assert rows[woman.customer_id]["birth_on"].isoformat() == "1958-02-14"
    assert rows[str(c.fixture.customer_id)]["gender"] in ("F", "M")
    assert "resident_id" not in rows[woman.customer_id]


def test_snapshot_days_are_month_ends_and_the_last_day() -> None:
    import datetime as dt

    days = export.snapshot_days(dt.date(2026, 1, 15), dt.date(2026, 3, 10))
    assert days == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 10)]
    assert export.snapshot_days(dt.date(2026, 1, 1), dt.date(2026, 1, 31)) == [dt.date(2026, 1, 31)]


def test_the_loaded_bank_exports_its_history_and_the_named_groups_emerge(
    tmp_path: Path,
    insight_results: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:

    from rongshu.identity import queries as identity_queries
    from rongshu.insight import services
    from rongshu.insight.library.segments import NAMED_GROUPS
    from rongshu.simulation.bank.load import load_bank

    end = clock.get_business_date()  # the ledger's transfers are created today
    # whatever day the history ends on, no loan shows a credit (tests/simulation/test_loans.py)
    with django_capture_on_commit_callbacks(execute=True):
        counts = load_bank(customers=600, months=12, seed=1, end_on=end, spending="monthly")
    assert counts["created"] > 0
    for c in identity_queries.export_customers():
        identity.do_set_consent(str(c["customer_id"]), "profiling", True)
    lake = tmp_path / "lake"
    export.export_lake(lake, since=dt.date(2000, 1, 1), until=end)
    days = sorted(p.name for p in (lake / "transactions").iterdir())
    assert len(days) > 300  # twelve months of booking dates, not the day of the load
    txns = pq.read_table(lake / "transactions").to_pylist()
    kinds = {t["kind"] for t in txns}
    assert {"salary", "card", "qr", "loan_repayment", "interest"} <= kinds
    assert any(t["cross_border"] and t["country"] != "CN" for t in txns)
    products = {a["product_code"] for a in pq.read_table(lake / "accounts").to_pylist()}
    assert {"deposit.current", "loan.mortgage", "loan.car"} <= products
    last_month = end.replace(day=1) - dt.timedelta(days=1)
    month_end = pq.read_table(lake / "balances" / f"date={last_month.isoformat()}").to_pylist()
    owed = [b["balance_minor"] for b in month_end if b["product_code"] == "loan.mortgage"]
    # the lake's sign: owed; a mortgage whose last instalment fell in the window shows zero
    assert any(b < 0 for b in owed) and all(b <= 0 for b in owed), [b for b in owed if b > 0]
    services.do_build(as_of=end, lake=lake)
    segments = pq.read_table(insight_results / "segments.parquet").to_pydict()
    sizes = {group: sum(segments[group]) for group in NAMED_GROUPS}
    assert all(size > 0 for size in sizes.values()), sizes
