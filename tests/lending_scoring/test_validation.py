"""Validation statistics on small examples worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rongshu.lending.scoring.validation import (
    auc,
    calibration_table,
    gini,
    information_value,
    ks,
    psi,
)


def test_auc_and_ks_on_a_tiny_known_example() -> None:
    # bads score 0.9, 0.4; goods 0.8, 0.3, 0.2: of the 6 bad/good pairs, 5 are ordered right
    # (0.9 beats all three goods, 0.4 beats 0.3 and 0.2 but not 0.8).
    y = [1, 1, 0, 0, 0]
    p = [0.9, 0.4, 0.8, 0.3, 0.2]
    assert auc(y, p) == pytest.approx(5 / 6)
    assert gini(y, p) == pytest.approx(2 * 5 / 6 - 1)
    # cumulative shares below 0.4: goods 2/3, bads 0 -> KS = 2/3 (the largest gap)
    assert ks(y, p) == pytest.approx(2 / 3)


def test_auc_counts_ties_as_half() -> None:
    assert auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert auc([1, 0, 1, 0], [0.7, 0.7, 0.9, 0.1]) == pytest.approx((1 + 1 + 1 + 0.5) / 4)


def test_perfect_and_reversed_rankings() -> None:
    y = [0, 0, 1, 1]
    assert auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert ks(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0


def test_auc_matches_scikit_learn_on_random_data() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 500)
    p = np.round(rng.random(500) + 0.3 * y, 2)  # rounded: plenty of ties
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_metrics_reject_bad_labels() -> None:
    with pytest.raises(ValueError, match="both"):
        auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="0"):
        ks([2, 0], [0.1, 0.2])


def test_psi_identical_is_zero_and_shifted_is_large() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, 5000)
    assert psi(a, a) == pytest.approx(0.0, abs=1e-12)
    assert psi(a, a + 0.5) > 0.1
    # a second draw of the same distribution is stable
    assert psi(a, rng.normal(0.0, 1.0, 5000)) < 0.02


def test_calibration_table_has_deciles_in_risk_order() -> None:
    rng = np.random.default_rng(2)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(int)
    table = calibration_table(y, p)
    assert len(table) == 10
    assert sum(r["n"] for r in table) == 1000
    predicted = [r["predicted"] for r in table]
    assert predicted == sorted(predicted)
    # well calibrated by construction
    assert all(abs(r["predicted"] - r["observed"]) < 0.1 for r in table)


def test_information_value_separates_signal_from_noise() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-2 * x))).astype(int)
    assert information_value(x, y) > 0.5
    assert information_value(rng.normal(size=4000), y) < 0.05
