"""Model quality on the public German Credit data (quick 3-fold run)."""

from __future__ import annotations

from rongshu.lending.scoring.benchmarks import cross_validate
from rongshu.lending.scoring.data import load_german, load_taiwan


def test_data_sets_load_with_their_known_shapes() -> None:
    x, y, cat = load_german()
    assert x.shape == (1000, 20)
    assert int(y.sum()) == 300
    assert "purpose" in cat
    xt, yt = load_taiwan()
    assert xt.shape == (30000, 23)
    assert int(yt.sum()) == 6636


def test_german_cross_validated_auc_above_floor() -> None:
    x, y, cat = load_german()
    # the scorecard only: the LightGBM figures come from the benchmark run
    res = cross_validate(x, y, categorical=cat, folds=3, kinds=("scorecard",))
    assert res["scorecard_auc"] > 0.72
    assert res["auc"] == res["scorecard_auc"]
    assert res["model"] == 0.0
    assert 0.3 < res["ks"] < 0.7
