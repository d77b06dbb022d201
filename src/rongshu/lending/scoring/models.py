"""Fitting the two model families: the optbinning WOE scorecard and the LightGBM challenger.

Both take a pandas frame and a 0/1 default flag (1 = bad) and return fitted library objects;
:func:`scorecard_artifact` and :func:`lightgbm_artifact` flatten them into a
:class:`~rongshu.lending.scoring.artifact.ModelArtifact` for deployment (numerical features).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rongshu.lending.scoring.artifact import (
    SCALING,
    FeatureTable,
    LightGBMEngine,
    ModelArtifact,
    ScorecardEngine,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Binning constraints: at most 8 bins of at least 5 % of the sample, prebinned on 2 % steps;
#: the WOE trend may be monotonic or have one peak/valley (e.g. age).
BINNING_PARAMS: dict[str, Any] = {
    "max_n_prebins": 20,
    "min_prebin_size": 0.02,
    "max_n_bins": 8,
    "min_bin_size": 0.05,
}

#: Challenger hyper-parameters: slow learning rate, shallow trees, strong subsampling; a good
#: default for small tabular credit data (fixed up front, not tuned on the benchmark folds).
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.02,
    "n_estimators": 500,
    "num_leaves": 8,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.5,
    "reg_lambda": 5.0,
    "n_jobs": 2,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


@contextmanager
def quiet_library_warnings() -> Iterator[None]:
    """Silence deprecation chatter that optbinning 1.0 triggers inside pandas 3 / scikit-learn.

    Only deprecation categories are silenced, and only around calls into those libraries.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def fit_scorecard(
    x: pd.DataFrame,
    y: IntArray,
    *,
    categorical: Sequence[str] = (),
    binning_params: Mapping[str, Any] | None = None,
) -> Any:
    """Fit an optbinning ``Scorecard``: WOE binning, logistic regression, PDO/odds scaling."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    names = list(x.columns)
    params = dict(BINNING_PARAMS if binning_params is None else binning_params)
    bp = BinningProcess(
        names,
        categorical_variables=list(categorical) or None,
        binning_fit_params={n: {"monotonic_trend": "auto_heuristic"} for n in names},
        **params,
    )
    card = Scorecard(
        binning_process=bp,
        estimator=LogisticRegression(max_iter=2000, C=1.0),
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": SCALING.pdo,
            "odds": SCALING.base_odds,
            "scorecard_points": SCALING.base_points,
        },
    )
    with quiet_library_warnings():
        card.fit(x, np.asarray(y))
    return card


def scorecard_pd(card: Any, x: pd.DataFrame) -> FloatArray:
    with quiet_library_warnings():
        return np.asarray(card.predict_proba(x)[:, 1], dtype=np.float64)


def information_values(card: Any) -> dict[str, float]:
    """IV of every characteristic in a fitted scorecard's binning process."""
    with quiet_library_warnings():
        summary = card.binning_process_.summary()
    return {str(r["name"]): float(r["iv"]) for _, r in summary.iterrows()}


def fit_lightgbm(
    x: pd.DataFrame, y: IntArray, *, seed: int = 1, params: Mapping[str, Any] | None = None
) -> Any:
    """Fit the LightGBM challenger (pandas ``category`` columns are used as categoricals)."""
    import lightgbm as lgb

    p = dict(LIGHTGBM_PARAMS if params is None else params)
    model = lgb.LGBMClassifier(random_state=seed, **p)
    model.fit(x, np.asarray(y))
    return model


def lightgbm_pd(model: Any, x: pd.DataFrame) -> FloatArray:
    return np.asarray(model.predict_proba(x)[:, 1], dtype=np.float64)


def scorecard_tables(card: Any) -> tuple[list[FeatureTable], float]:
    """Flatten a fitted scorecard on numerical features into artefact tables and intercept."""
    bp = card.binning_process_
    coefs = np.asarray(card.estimator_.coef_, dtype=np.float64).ravel()
    intercept = float(np.asarray(card.estimator_.intercept_, dtype=np.float64).ravel()[0])
    tables: list[FeatureTable] = []
    for i, name in enumerate(bp.get_support(names=True)):
        optb = bp.get_binned_variable(name)
        if optb.dtype != "numerical":
            raise ValueError(f"{name}: only numerical characteristics can be deployed")
        splits = [float(s) for s in optb.splits]
        with quiet_library_warnings():
            bt = optb.binning_table.build(add_totals=False)
        woe = [float(w) for w in bt["WoE"].to_numpy()[: len(splits) + 1]]
        tables.append(FeatureTable(str(name), tuple(splits), tuple(woe), 0.0, float(coefs[i])))
    return tables, intercept


def scorecard_artifact(
    card: Any,
    *,
    name: str,
    version: str,
    features: Sequence[str],
    metrics: Mapping[str, float],
) -> ModelArtifact:
    tables, intercept = scorecard_tables(card)
    by_name = {t.name: t for t in tables}
    # Keep the declared feature order; a characteristic the binning process dropped scores 0.
    ordered = [by_name.get(f, FeatureTable(f, (), (0.0,), 0.0, 0.0)) for f in features]
    return ModelArtifact(
        name=name,
        version=version,
        kind="scorecard",
        features=features,
        metrics=metrics,
        engine=ScorecardEngine(ordered, intercept, SCALING),
    )


def lightgbm_artifact(
    model: Any,
    *,
    name: str,
    version: str,
    features: Sequence[str],
    metrics: Mapping[str, float],
) -> ModelArtifact:
    text = model.booster_.model_to_string()
    return ModelArtifact(
        name=name,
        version=version,
        kind="lightgbm",
        features=features,
        metrics=metrics,
        engine=LightGBMEngine(text, SCALING),
    )
