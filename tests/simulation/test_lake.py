"""The lake writer: the layout of docs/lake.md, reproducible byte for byte, groups emerge."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from rongshu.simulation.bank.lake import write_lake

END = dt.date(2026, 11, 29)


def checksums(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("lake")
    counts = write_lake(path, customers=1500, months=12, seed=7, end_on=END)
    return path, counts


def q(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    for table in ("customers", "accounts"):
        con.execute(
            f"create view {table} as select * from read_parquet('{path}/{table}/*.parquet')"
        )
    for table in ("transactions", "balances"):
        con.execute(
            f"create view {table} as select * from read_parquet('{path}/{table}/*/*.parquet', "
            "hive_partitioning = true)"
        )
    for table in ("life_events", "typologies", "spells"):
        con.execute(f"create view {table} as select * from '{path}/ground_truth/{table}.parquet'")
    return con.execute(sql).fetchall()


def test_the_layout_and_columns_are_those_of_docs_lake_md(
    lake: tuple[Path, dict[str, int]],
) -> None:
    path, counts = lake
    assert (path / "events").is_dir()
    assert (
        len(list((path / "transactions").glob("date=*"))) == (END - dt.date(2025, 12, 1)).days + 1
    )
    assert (path / "transactions" / "date=2026-11-29").is_dir()
    assert (path / "balances" / "date=2026-10-31").is_dir()
    cols = [r[0] for r in q(path, "describe transactions")]
    assert cols[:13] == [
        "txn_id",
        "customer_id",
        "account_id",
        "booked_at",
        "amount_minor",
        "currency",
        "kind",
        "channel",
        "mcc",
        "need_category",
        "counterparty_id",
        "cross_border",
        "country",
    ]
    assert q(path, "select count(*) from transactions")[0][0] == counts["transactions"]
    assert q(path, "select count(*) from customers")[0][0] == counts["customers"] == 1500 + 37
    assert q(path, "select count(distinct txn_id) = count(*) from transactions")[0][0] is True
    kinds = {r[0] for r in q(path, "select distinct kind from transactions")}
    assert {"salary", "pension", "card", "qr", "bill", "loan_repayment", "fx"} <= kinds
    needs = {r[0] for r in q(path, "select distinct need_category from transactions")}
    assert needs - {None} == {
        "clothing",
        "food",
        "housing",
        "transport",
        "leisure",
        "medical",
        "finance",
    }
    # every account of a transaction exists, every customer too
    orphans = q(
        path,
        "select count(*) from transactions t left join accounts a using (account_id) "
        "where a.account_id is null",
    )
    assert orphans[0][0] == 0


def test_the_four_groups_emerge_from_life_events(lake: tuple[Path, dict[str, int]]) -> None:
    path, _ = lake
    pensioners = q(
        path,
        "select count(distinct t.customer_id) from transactions t join life_events e "
        "on e.customer_id = t.customer_id and e.event = 'retirement' where t.kind = 'pension'",
    )[0][0]
    pension_without_retirement = q(
        path,
        "select count(*) from transactions t where kind = 'pension' and customer_id not in "
        "(select customer_id from life_events where event = 'retirement')",
    )[0][0]
    assert pensioners > 150
    assert pension_without_retirement == 0
    mortgage = q(
        path,
        "select count(distinct a.customer_id) from accounts a join transactions t "
        "on t.account_id = a.account_id where a.product_code = 'loan.mortgage' "
        "and t.kind = 'loan_repayment'",
    )[0][0]
    assert mortgage > 50
    assert (
        q(
            path,
            "select count(*) from accounts where product_code = 'loan.mortgage' "
            "and customer_id not in "
            "(select customer_id from life_events where event = 'home_purchase')",
        )[0][0]
        == 0
    )
    # a mortgage whose term covers the window is repaid in it, however long ago the home was
    # bought; one paid off before the window is not
    running = q(
        path,
        "select count(*) from spells where spell = 'mortgage' "
        "and from_on < date '2025-12-01' - interval 2 year and to_on > date '2026-11-29'",
    )[0]
    assert running[0] > 20
    repaid = q(
        path,
        "select count(distinct s.customer_id) from spells s join accounts a "
        "on a.customer_id = s.customer_id and a.product_code = 'loan.mortgage' "
        "join transactions t on t.account_id = a.account_id and t.kind = 'loan_repayment' "
        "where s.spell = 'mortgage' and s.from_on < date '2025-12-01' - interval 2 year "
        "and s.to_on > date '2026-11-29'",
    )[0][0]
    assert repaid == running[0]
    paid_off = q(
        path,
        "select count(*) from spells s join accounts a on a.customer_id = s.customer_id "
        "and a.product_code = 'loan.mortgage' join transactions t on t.account_id = a.account_id "
        "where s.spell = 'mortgage' and s.to_on < date '2025-12-01'",
    )[0][0]
    assert paid_off == 0
    cross = q(
        path,
        "select count(distinct customer_id) from transactions where cross_border and kind = 'fx'",
    )[0][0]
    assert cross > 5
    assert (
        q(
            path,
            "select count(*) from transactions where cross_border and customer_id not in "
            "(select customer_id from life_events where event = 'abroad')",
        )[0][0]
        == 0
    )
    fuel = q(
        path,
        "select count(distinct customer_id) from transactions where mcc = '5541' and "
        "customer_id not in (select customer_id from life_events where event = 'car_purchase')",
    )[0][0]
    assert fuel == 0
    assert (
        q(path, "select count(distinct customer_id) from transactions where mcc = '5541'")[0][0]
        > 100
    )


def test_typologies_have_ground_truth_and_leave_traces(lake: tuple[Path, dict[str, int]]) -> None:
    path, _ = lake
    kinds = {r[0] for r in q(path, "select distinct typology from typologies")}
    assert kinds == {
        "structuring",
        "rapid_in_out",
        "fan_in",
        "fan_out",
        "dormant_wake",
        "mule_chain",
    }
    under = q(
        path,
        "select count(*), max(amount_minor) from transactions t "
        "join typologies g using (customer_id) "
        "where g.typology = 'structuring' and t.kind = 'cash'",
    )[0]
    assert under[0] >= 6
    assert under[1] < 50_000_00  # just below the ¥50,000 large-cash report threshold
    silent = q(
        path,
        "select count(*) from transactions t join typologies g using (customer_id) "
        "where g.typology = 'dormant_wake' and t.kind <> 'interest' "
        "and cast(t.booked_at as date) < g.from_on - 1",
    )[0][0]
    assert silent == 0


def test_spending_follows_seasons_and_weeks(lake: tuple[Path, dict[str, int]]) -> None:
    path, _ = lake
    by_day = dict(
        q(path, "select date, count(*) from transactions where kind in ('card','qr') group by 1")
    )
    d11 = by_day[dt.date(2026, 11, 11)]
    others = [v for d, v in by_day.items() if d.month == 11 and d.day in (3, 4, 5, 17, 18, 19)]
    assert d11 > 1.5 * max(others)
    weekend = [v for d, v in by_day.items() if d.weekday() >= 5]
    weekday = [v for d, v in by_day.items() if d.weekday() < 4]
    assert sum(weekend) / len(weekend) > 1.15 * sum(weekday) / len(weekday)


def test_the_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_lake(a, customers=300, months=3, seed=11, end_on=END)
    write_lake(b, customers=300, months=3, seed=11, end_on=END)
    write_lake(c, customers=300, months=3, seed=12, end_on=END)
    assert checksums(a) == checksums(b)
    assert checksums(a) != checksums(c)


def test_two_workers_write_the_rows_of_one_worker(tmp_path: Path) -> None:
    """``workers=2``: one process per block range, its own part files; read in file-name order
    every table holds exactly the rows of ``workers=1``, and the same call is reproducible."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    one, two, again = tmp_path / "one", tmp_path / "two", tmp_path / "again"
    counts_one = write_lake(one, customers=2100, months=2, seed=11, end_on=END)
    counts_two = write_lake(two, customers=2100, months=2, seed=11, end_on=END, workers=2)
    write_lake(again, customers=2100, months=2, seed=11, end_on=END, workers=2)
    assert counts_one == counts_two
    assert checksums(two) == checksums(again)
    day = two / "transactions" / "date=2026-11-27"
    assert sorted(p.name for p in day.glob("*.parquet")) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert not (two / "ground_truth" / "_parts").exists()

    def tables(root: Path) -> dict[str, pa.Table]:
        out = {}
        for folder in sorted({p.parent for p in root.rglob("*.parquet")}):
            files = sorted(folder.glob("*.parquet"))
            if folder.name == "ground_truth":
                out.update({str(f.relative_to(root)): pq.read_table(f) for f in files})
            else:
                key = str(folder.relative_to(root))
                out[key] = pa.concat_tables([pq.read_table(f) for f in files])
        return out

    a, b = tables(one), tables(two)
    assert a.keys() == b.keys()
    assert "ground_truth/life_events.parquet" in a
    for key in a:
        assert a[key].equals(b[key]), key
