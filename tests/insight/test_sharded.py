"""The sharded full build (indicators per customer shard, appended) equals the unsharded build
exactly: on the designed fixture lake and on a generated lake written by two worker processes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rongshu.insight import engine
from tests.insight.compare import assert_same_results, full_build
from tests.insight.lake_fixture import AS_OF


@pytest.mark.parametrize("shards", [2, 7])
def test_sharded_build_equals_the_unsharded_build_on_the_fixture_lake(
    lake: Path, shards: int
) -> None:
    whole = full_build(lake, AS_OF, 1)
    sharded = full_build(lake, AS_OF, shards)
    assert sharded.stats["shards"] == shards
    assert whole.profile.num_rows > 100
    assert_same_results(whole, sharded, circles=True)


def test_sharded_build_equals_the_unsharded_build_on_a_two_worker_generated_lake(
    tmp_path: Path,
) -> None:
    from rongshu.simulation.bank.lake import write_lake

    end = dt.date(2026, 2, 28)
    counts = write_lake(tmp_path, customers=2100, months=3, seed=5, end_on=end, workers=2)
    # two workers, two files per day folder, read as one table
    assert len(list((tmp_path / "transactions" / "date=2026-02-27").glob("*.parquet"))) == 2
    whole = full_build(tmp_path, end, 1)
    sharded = full_build(tmp_path, end, 5)
    assert whole.profile.num_rows > 0.7 * (counts["customers"] - counts["companies"])
    assert sum(whole.segments.column("elderly").to_pylist()) > 0
    assert_same_results(whole, sharded, circles=True)


def test_shard_count_follows_lake_size_and_memory_limit(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert engine.parse_size("8GB") == 8 * 10**9
    assert engine.parse_size("1.5GiB") == 3 * 2**29
    assert engine.shards_for(0, "1GB") == 1
    # 100M rows at 400 bytes under half of 8 GB: 10 shards; under 4 GB: 20
    assert engine.shards_for(100_000_000, "8GB") == 10
    assert engine.shards_for(100_000_000, "4GB") == 20
    eng = engine.DuckDBEngine(lake, threads=1)
    try:
        assert eng.shard_count(AS_OF) == 1  # the fixture lake fits any limit
        monkeypatch.setenv("RONGSHU_INSIGHT_SHARDS", "3")
        assert eng.shard_count(AS_OF) == 3
        assert engine.run(eng, AS_OF).stats["shards"] == 3
    finally:
        eng.close()
