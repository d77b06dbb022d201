"""The incremental daily build equals the full build, value by value.

A small generated lake (the synthetic bank, 14 months ending 2026-03-03) is built in full at
D = 2026-02-28, then day partitions D+1..D+3 land one at a time (month boundary: the 1-month
window's lower edge jumps from Jan 28 to Feb 1), a customer flips consent each way and an old
day is re-exported; after every day the incremental results must equal a full build at that
day exactly, and the emitted membership and stage changes must equal the difference between
consecutive full builds."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from rongshu.insight import engine, incremental
from rongshu.insight.library.indicators import INDICATORS
from tests.insight.compare import assert_same_results, full_build

D = dt.date(2026, 2, 28)
END = D + dt.timedelta(days=3)


@pytest.fixture(scope="module")
def daily_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The lake up to D, and a holding folder with the day partitions D+1..D+3."""
    from rongshu.simulation.bank.lake import write_lake

    root = tmp_path_factory.mktemp("daily")
    lake = root / "lake"
    write_lake(lake, customers=300, months=14, seed=3, end_on=END)
    held = root / "held"
    held.mkdir()
    for n in (1, 2, 3):
        day = D + dt.timedelta(days=n)
        for table in ("transactions", "events"):
            src = lake / table / f"date={day.isoformat()}"
            if src.exists():
                shutil.move(src, held / f"{table}-{day.isoformat()}")
    return lake, held


def _land(lake: Path, held: Path, day: dt.date) -> None:
    for table in ("transactions", "events"):
        src = held / f"{table}-{day.isoformat()}"
        if src.exists():
            shutil.move(src, lake / table / f"date={day.isoformat()}")


def _members(res: engine.Results) -> set[tuple[str, str]]:
    seg = res.segments
    ids = seg.column("customer_id")
    return {(c, s) for s in seg.column_names[1:] for c in pc.filter(ids, seg.column(s)).to_pylist()}


def _stages(res: engine.Results) -> dict[str, str]:
    return dict(
        zip(
            res.stages.column("customer_id").to_pylist(),
            res.stages.column("stage").to_pylist(),
            strict=True,
        )
    )


def _flip_consent(lake: Path) -> tuple[str, str]:
    """One consenting customer withdraws, one who had refused agrees."""
    path = next((lake / "customers").glob("*.parquet"))
    table = pq.read_table(path)
    consent = table.column("profiling_consent").to_pylist()
    ids = table.column("customer_id").to_pylist()
    yes = consent.index(True)
    no = consent.index(False)
    consent[yes], consent[no] = False, True
    idx = table.schema.get_field_index("profiling_consent")
    table = table.set_column(idx, "profiling_consent", pa.array(consent, pa.bool_()))
    pq.write_table(table, path)
    return ids[yes], ids[no]


def _reexport(lake: Path, day: dt.date) -> None:
    """A re-export of an old day: the same file name, every other row kept."""
    path = next((lake / "transactions" / f"date={day.isoformat()}").glob("*.parquet"))
    table = pq.read_table(path)
    keep = pa.array([i % 2 == 0 for i in range(table.num_rows)])
    pq.write_table(table.filter(keep), path)


def test_incremental_days_equal_full_builds(daily_lake: tuple[Path, Path], tmp_path: Path) -> None:
    lake, held = daily_lake
    state = tmp_path / "state"
    first = incremental.run(lake, state, D)
    assert first.stats["mode"] == "full"
    previous = full_build(lake, D)
    assert_same_results(first, previous)
    withdrew = agreed = ""
    for n in (1, 2, 3):
        day = D + dt.timedelta(days=n)
        _land(lake, held, day)
        if n == 2:
            withdrew, agreed = _flip_consent(lake)
        if n == 3:
            _reexport(lake, D - dt.timedelta(days=5))
        inc = incremental.run(lake, state, day)
        assert inc.stats["mode"] == "incremental"
        assert inc.stats["transactions_days_read"] == (2 if n == 3 else 1)
        assert 0 < inc.stats["affected_customers"] <= inc.profile.num_rows
        full = full_build(lake, day)
        assert_same_results(inc, full)
        # the emitted changes are exactly the difference between consecutive full builds
        assert inc.membership_changes is not None and inc.stage_changes is not None
        got = {
            (r["customer_id"], r["segment_id"], r["change"])
            for r in inc.membership_changes.to_pylist()
        }
        before, after = _members(previous), _members(full)
        want = {(c, s, "entered") for c, s in after - before} | {
            (c, s, "left") for c, s in before - after
        }
        assert got == want
        assert got  # the days do move customers in and out of segments
        old_st, new_st = _stages(previous), _stages(full)
        want_st = {
            (c, old_st.get(c), new_st.get(c))
            for c in set(old_st) | set(new_st)
            if old_st.get(c) != new_st.get(c)
        }
        got_st = {
            (r["customer_id"], r["from_stage"], r["to_stage"])
            for r in inc.stage_changes.to_pylist()
        }
        assert got_st == want_st
        if n == 2:
            profiled = set(inc.profile.column("customer_id").to_pylist())
            assert withdrew not in profiled and agreed in profiled
            assert any(c == withdrew and to is None for c, _f, to in got_st)
        previous = full


def test_rerun_same_day_changes_nothing(daily_lake: tuple[Path, Path], tmp_path: Path) -> None:
    lake, _held = daily_lake
    state = tmp_path / "state"
    incremental.run(lake, state, D - dt.timedelta(days=1))
    again = incremental.run(lake, state, D - dt.timedelta(days=1))
    assert again.stats["mode"] == "incremental"
    assert again.stats["affected_customers"] == 0
    assert again.stats["changed_customers"] == 0
    assert again.membership_changes is not None and again.membership_changes.num_rows == 0
    # going back in time rebuilds in full
    back = incremental.run(lake, state, D - dt.timedelta(days=2))
    assert back.stats["mode"] == "full"
    assert_same_results(back, full_build(lake, D - dt.timedelta(days=2)))


def test_split_covers_the_library() -> None:
    split = incremental.split_library()
    daily = [i for i in INDICATORS if i["source"] in incremental.DAILY_SOURCES]
    rewritten = {i["id"]: i for i in split.indicators}
    assert len(split.indicators) == len(INDICATORS)
    for ind in daily:
        sql = rewritten[ind["id"]]["sql"].upper()
        assert "SUM(" not in sql and "COUNT(" not in sql and "MAX(" not in sql, ind["id"]
    # distinct counts of a day value merge as COUNT(DISTINCT), other distinct counts as sets
    kinds = {e.split("(")[0] for e in split.partials["transactions"]}
    assert kinds == {"SUM", "COUNT", "MAX", "LIST"}
    # an as-of date inside an aggregate, or an aggregate that does not merge, is refused
    bad: list[dict[str, Any]] = [
        {**daily[0], "id": "x", "sql": 'SUM(CASE WHEN "date" > {as_of} THEN 1 ELSE 0 END)'},
        {**daily[0], "id": "y", "sql": "MEDIAN(amount_minor)"},
    ]
    for ind in bad:
        with pytest.raises(incremental.IncrementalUnsupported):
            incremental.split_library([ind])


def test_duckdb_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RONGSHU_INSIGHT_MEMORY_LIMIT", "3GB")
    monkeypatch.setenv("RONGSHU_INSIGHT_THREADS", "2")
    settings = engine.DuckDBSettings.from_env()
    assert (settings.memory_limit, settings.threads) == ("3GB", 2)
    assert engine.DuckDBSettings.from_env(memory_limit="512MB").memory_limit == "512MB"
    monkeypatch.delenv("RONGSHU_INSIGHT_MEMORY_LIMIT")
    assert engine.DuckDBSettings.from_env().memory_limit.endswith("MB")
    with pytest.raises(ValueError):
        engine.DuckDBSettings.from_env(memory_limit="lots; DROP TABLE x")
    monkeypatch.setenv("RONGSHU_INSIGHT_MAX_TEMP", "20GB")
    assert engine.DuckDBSettings.from_env().max_temp_size == "20GB"
    monkeypatch.setenv("RONGSHU_INSIGHT_MAX_TEMP", "20 parsecs")
    with pytest.raises(ValueError):
        engine.DuckDBSettings.from_env()
