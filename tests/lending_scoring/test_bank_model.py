"""The synthetic bank's 快贷 model: determinism, serialisation, reasons, speed-path parity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rongshu.lending.scoring import ModelArtifact, bank_feature_names, train_bank_model
from rongshu.lending.scoring.artifact import SCALING
from rongshu.lending.scoring.bank import (
    MODEL_NAME,
    synthetic_population,
    true_logit,
)
from rongshu.lending.scoring.validation import validation_report


def _rows(n: int, seed: int = 11) -> list[dict[str, float | None]]:
    x = synthetic_population(seed=seed, n=n).x
    return [{k: float(v) for k, v in r.items()} for r in x.to_dict("records")]


def test_population_is_seeded_and_follows_the_published_pd() -> None:
    a = synthetic_population(seed=5, n=2000)
    b = synthetic_population(seed=5, n=2000)
    assert a.x.equals(b.x)
    assert np.array_equal(a.y, b.y)
    assert not synthetic_population(seed=6, n=2000).x.equals(a.x)
    assert tuple(a.x.columns) == bank_feature_names()
    # the noiseless published logit ranks defaults well above chance
    from rongshu.lending.scoring.validation import auc

    assert auc(a.y, true_logit(a.x)) > 0.75
    assert 0.03 < a.y.mean() < 0.15


def test_training_is_deterministic(bank_scorecard: ModelArtifact) -> None:
    again = train_bank_model(seed=3, n=6000)
    assert again.to_bytes() == bank_scorecard.to_bytes()
    assert again.sha256 == bank_scorecard.sha256
    other = train_bank_model(seed=4, n=6000)
    assert other.sha256 != bank_scorecard.sha256


def test_artifact_describes_itself(bank_scorecard: ModelArtifact) -> None:
    art = bank_scorecard
    assert art.name == MODEL_NAME
    assert art.kind == "scorecard"
    assert art.features == bank_feature_names()
    assert 0.65 < art.metrics["auc"] <= art.metrics["auc_true_pd"] + 0.02
    assert art.metrics["ks"] > 0.2
    assert art.metrics["psi_dev_val"] < 0.1


@pytest.mark.parametrize("fixture", ["bank_scorecard", "bank_lightgbm"])
def test_round_trip_gives_identical_scores(fixture: str, request: pytest.FixtureRequest) -> None:
    art: ModelArtifact = request.getfixturevalue(fixture)
    data = art.to_bytes()
    back = ModelArtifact.from_bytes(data)
    assert back.to_bytes() == data
    assert back.sha256 == art.sha256
    rows = _rows(300)
    assert back.score_many(rows) == art.score_many(rows)
    assert (back.name, back.version, back.kind, back.features) == (
        art.name,
        art.version,
        art.kind,
        art.features,
    )
    assert back.metrics == art.metrics


def test_from_bytes_rejects_other_formats(bank_scorecard: ModelArtifact) -> None:
    with pytest.raises(ValueError, match="artefact"):
        ModelArtifact.from_bytes(b'{"format": "something else"}')
    bumped = bank_scorecard.to_bytes().replace(b'"format_version":1', b'"format_version":99')
    with pytest.raises(ValueError, match="version"):
        ModelArtifact.from_bytes(bumped)


@pytest.mark.parametrize("fixture", ["bank_scorecard", "bank_lightgbm"])
def test_score_one_equals_score_many(fixture: str, request: pytest.FixtureRequest) -> None:
    art: ModelArtifact = request.getfixturevalue(fixture)
    rows = _rows(50)
    assert [art.score(r) for r in rows] == art.score_many(rows)


@pytest.mark.parametrize("fixture", ["bank_scorecard", "bank_lightgbm"])
def test_score_and_pd_are_consistent(fixture: str, request: pytest.FixtureRequest) -> None:
    art: ModelArtifact = request.getfixturevalue(fixture)
    for res in art.score_many(_rows(200)):
        assert 0.0 < res.pd < 1.0
        # the score is the PDO/odds transform of the PD, rounded to whole points
        assert (
            abs(SCALING.pd_from_score(res.score) - res.pd)
            <= res.pd * (math.exp(0.5 / SCALING.factor) - 1) + 1e-12
        )


def test_reason_codes_are_ordered_and_stable(bank_scorecard: ModelArtifact) -> None:
    results = bank_scorecard.score_many(_rows(500))
    declines = [r for r in results if r.pd > 0.15]
    assert declines, "the sample should contain risky applicants"
    codes = {f: f"R{i + 1:02d}" for i, f in enumerate(bank_feature_names())}
    for res in results:
        assert len(res.reasons) <= 4
        lost = [r.points_lost for r in res.reasons]
        assert lost == sorted(lost, reverse=True)
        assert all(p > 0 for p in lost)
        assert all(codes[r.feature] == r.code for r in res.reasons)
    assert all(res.reasons for res in declines)


def test_reason_points_lost_are_points_against_the_best_bin(
    bank_scorecard: ModelArtifact,
) -> None:
    engine = bank_scorecard.engine
    from rongshu.lending.scoring.artifact import ScorecardEngine

    assert isinstance(engine, ScorecardEngine)
    rows = _rows(100)
    x = bank_scorecard.matrix(rows)
    idx = engine.bin_index(x)
    table = engine.points_table()
    best = [float(t.max()) for t in table]
    for i, res in enumerate(bank_scorecard.score_many(rows)):
        points = [float(table[j][idx[i, j]]) for j in range(len(table))]
        assert res.score == round(sum(points))
        for r in res.reasons:
            j = bank_scorecard.features.index(r.feature)
            assert r.points_lost == pytest.approx(best[j] - points[j], abs=0.01)


def test_worse_behaviour_never_improves_the_score(bank_scorecard: ModelArtifact) -> None:
    base = _rows(1)[0]
    base["late_payments_12m"] = 0.0
    late = dict(base, late_payments_12m=4.0)
    a, b = bank_scorecard.score(base), bank_scorecard.score(late)
    assert b.score < a.score
    assert b.pd > a.pd
    assert "late_payments_12m" in [r.feature for r in b.reasons]


def test_missing_values_are_scored(bank_scorecard: ModelArtifact) -> None:
    row = _rows(1)[0]
    row["card_spend_monthly"] = None
    del row["balance_avg"]
    res = bank_scorecard.score(row)
    assert 0.0 < res.pd < 1.0


def test_fast_path_matches_optbinning() -> None:
    """The flattened tables reproduce optbinning's own scorecard points and PD."""
    from rongshu.lending.scoring import models
    from rongshu.lending.scoring.bank import BANK_FEATURES

    pop = synthetic_population(seed=9, n=4000)
    card = models.fit_scorecard(pop.x, pop.y)
    art = models.scorecard_artifact(card, name="t", version="1", features=BANK_FEATURES, metrics={})
    x = pop.x.to_numpy(dtype=np.float64)
    with models.quiet_library_warnings():
        ref_pd = card.predict_proba(pop.x)[:, 1]
        ref_score = card.score(pop.x)
    assert np.allclose(art.predict_pd(x), ref_pd, atol=1e-9)
    scores = np.array([r.score for r in art.score_matrix(x)])
    assert np.array_equal(scores, np.rint(ref_score))


def test_validation_report_on_fresh_sample(bank_scorecard: ModelArtifact) -> None:
    dev = synthetic_population(seed=3, n=3000)
    fresh = synthetic_population(seed=21, n=3000)
    report = validation_report(bank_scorecard, fresh.x, fresh.y, reference=dev.x)
    assert report["sha256"] == bank_scorecard.sha256
    assert report["auc"] > 0.65
    assert report["ks"] > 0.2
    assert report["gini"] == pytest.approx(2 * report["auc"] - 1)
    assert len(report["calibration"]) == 10
    assert set(report["iv"]) == set(bank_feature_names())
    assert report["iv"]["late_payments_12m"] > report["iv"]["card_spend_monthly"] * 0.5
    assert report["psi_score"] < 0.1  # same population law: stable
    shifted = fresh.x.assign(late_payments_12m=fresh.x["late_payments_12m"] + 2)
    worse = validation_report(bank_scorecard, shifted, fresh.y, reference=dev.x)
    assert worse["psi_score"] > 0.1
    # rows as mappings give the same figures as a frame
    as_rows = validation_report(bank_scorecard, fresh.x.to_dict("records"), fresh.y)
    assert as_rows["auc"] == pytest.approx(report["auc"])


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        train_bank_model(kind="neural")
