"""DuckDB and Spark agree exactly on every indicator, segment and stage of the fixture lake.

The fixture lake is tiny (300 customers), so Spark's cost is planning and code generation of the
wide plan, not data: the test runs with one shuffle partition, no adaptive execution and no
whole-stage code generation (results do not depend on them), which halves its time. Fewer
customers would not help and would leave segments empty (fewer than the 72 with members here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rongshu.insight import engine
from rongshu.insight.library.indicators import INDICATORS
from rongshu.insight.library.segments import FAMILIES, SEGMENTS
from tests.insight.lake_fixture import AS_OF

SMALL_DATA = {
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
}


@pytest.fixture
def small_spark(spark: Any) -> Iterator[Any]:
    """The session's Spark, tuned for a tiny lake for this test only."""
    before = {key: spark.conf.get(key) for key in SMALL_DATA}
    for key, value in SMALL_DATA.items():
        spark.conf.set(key, value)
    try:
        yield spark
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


# py4j leaves sockets to the garbage collector.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_duckdb_and_spark_agree(lake: Path, small_spark: Any) -> None:
    duck = engine.DuckDBEngine(lake, threads=1)
    try:
        a = engine.run(duck, AS_OF)
    finally:
        duck.close()
    sp = engine.SparkEngine(lake, small_spark)
    try:
        b = engine.run(sp, AS_OF)
    finally:
        sp.close()
    # the sample exercises every indicator and segment: every family has members
    assert sorted(a.profile.column_names) == sorted(["customer_id", *(i["id"] for i in INDICATORS)])
    assert a.segments.column_names == ["customer_id", *(s["id"] for s in SEGMENTS)]
    filled = {s["family"] for s in SEGMENTS if any(a.segments.column(s["id"]).to_pylist())}
    assert filled == set(FAMILIES)
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
