"""One full build of a lake and one comparison of two builds' results, shared by the sharded and
the incremental equivalence tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rongshu.insight import engine


def full_build(lake: Path, as_of: dt.date, shards: int | None = None) -> engine.Results:
    eng = engine.DuckDBEngine(lake, threads=2)
    try:
        return engine.run(eng, as_of, shards=shards)
    finally:
        eng.close()


def assert_same_results(a: engine.Results, b: engine.Results, *, circles: bool = False) -> None:
    """Profile, segments and stages equal (same columns, rows, values; the first differing value
    named); ``circles``: the circle edges too, in any order."""
    for name in ("profile", "segments", "stages"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.schema == y.schema, name
        assert x.num_rows == y.num_rows > 0, name
        rows_x, rows_y = engine.normalise(x), engine.normalise(y)
        if rows_x != rows_y:
            for rx, ry in zip(rows_x, rows_y, strict=True):
                for col, vx, vy in zip(x.column_names, rx, ry, strict=True):
                    assert vx == vy, f"{name}.{col} of {rx[0]}: {vx!r} != {vy!r}"
    if circles:
        assert sorted(engine.normalise(a.circles)) == sorted(engine.normalise(b.circles))
