"""DuckDB and Spark agree exactly on every indicator, segment and stage of the fixture lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rongshu.insight import engine
from tests.insight.lake_fixture import AS_OF


# py4j leaves sockets to the garbage collector.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_duckdb_and_spark_agree(lake: Path, spark: Any) -> None:
    duck = engine.DuckDBEngine(lake, threads=1)
    try:
        a = engine.run(duck, AS_OF)
    finally:
        duck.close()
    sp = engine.SparkEngine(lake, spark)
    try:
        b = engine.run(sp, AS_OF)
    finally:
        sp.close()
    assert a.profile.column_names == b.profile.column_names
    assert a.profile.num_rows == b.profile.num_rows > 0
    left, right = engine.normalise(a.profile), engine.normalise(b.profile)
    for x, y in zip(left, right, strict=True):
        assert x == y, [
            (c, u, v) for c, u, v in zip(a.profile.column_names, x, y, strict=True) if u != v
        ]
    assert engine.normalise(a.segments) == engine.normalise(b.segments)
    assert engine.normalise(a.stages) == engine.normalise(b.stages)
    assert sorted(engine.normalise(a.circles)) == sorted(engine.normalise(b.circles))
