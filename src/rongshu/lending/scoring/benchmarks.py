"""Model-quality figures on public data for ``bench/lending.py``.

Both data sets are scored by stratified k-fold cross-validation (shuffled, ``random_state=1``):
in every fold the WOE scorecard and the LightGBM challenger are fitted on the training part
and scored on the held-out part. Per model the figures are the mean of the fold AUCs and KSs.
The headline keys (``german_auc`` ...) report the model the registry would deploy: the one with
the better cross-validated AUC on that data set (named in ``german_model``/``taiwan_model``:
0 = scorecard, 1 = lightgbm).

``quick=True`` uses 3 folds and a stratified 6,000-row subsample of Taiwan and says so in
``quick: 1``; the full run is 5 folds on all 30,000 Taiwan rows.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rongshu.lending.scoring import models
from rongshu.lending.scoring.data import load_german, load_taiwan
from rongshu.lending.scoring.validation import auc, ks

IntArray = npt.NDArray[np.int64]
KINDS = ("scorecard", "lightgbm")


def cross_validate(
    x: pd.DataFrame,
    y: IntArray,
    *,
    categorical: list[str] | None = None,
    folds: int = 5,
    seed: int = 1,
    kinds: tuple[str, ...] = KINDS,
) -> dict[str, float]:
    """Mean fold AUC/KS of the scorecard and/or the challenger; ``auc``/``ks`` of the best."""
    from sklearn.model_selection import StratifiedKFold

    cat = list(categorical or [])
    x_lgb = x.copy()
    for c in cat:
        x_lgb[c] = x_lgb[c].astype("category")
    scores: dict[str, list[float]] = {f"{k}_{m}": [] for k in kinds for m in ("auc", "ks")}
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(x, y):
        preds = []
        if "scorecard" in kinds:
            card = models.fit_scorecard(x.iloc[tr], y[tr], categorical=cat)
            preds.append(("scorecard", models.scorecard_pd(card, x.iloc[te])))
        if "lightgbm" in kinds:
            lgbm = models.fit_lightgbm(x_lgb.iloc[tr], y[tr], seed=seed)
            preds.append(("lightgbm", models.lightgbm_pd(lgbm, x_lgb.iloc[te])))
        for kind, p in preds:
            scores[f"{kind}_auc"].append(auc(y[te], p))
            scores[f"{kind}_ks"].append(ks(y[te], p))
    out = {k: float(np.mean(v)) for k, v in scores.items()}
    best = max(kinds, key=lambda k: out[f"{k}_auc"])
    out["auc"] = out[f"{best}_auc"]
    out["ks"] = out[f"{best}_ks"]
    out["model"] = float(KINDS.index(best))
    out["folds"] = float(folds)
    out["n"] = float(len(y))
    return out


def _subsample(x: pd.DataFrame, y: IntArray, n: int, seed: int) -> tuple[pd.DataFrame, IntArray]:
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    idx = np.sort(idx)
    return x.iloc[idx].reset_index(drop=True), y[idx]


def accuracy_metrics(*, quick: bool = False) -> dict[str, float]:
    """German and Taiwan AUC/KS of both model families (see the module docstring)."""
    folds = 3 if quick else 5
    out: dict[str, float] = {"quick": 1.0 if quick else 0.0}
    t0 = time.perf_counter()
    xg, yg, cat = load_german()
    _put(out, "german", cross_validate(xg, yg, categorical=cat, folds=folds))
    t1 = time.perf_counter()
    xt, yt = load_taiwan()
    if quick:
        xt, yt = _subsample(xt, yt, 6000, seed=1)
    _put(out, "taiwan", cross_validate(xt, yt, folds=folds))
    t2 = time.perf_counter()
    out["german_cv_s"] = round(t1 - t0, 2)
    out["taiwan_cv_s"] = round(t2 - t1, 2)
    return out


def _put(out: dict[str, float], prefix: str, res: dict[str, Any]) -> None:
    for k, v in res.items():
        out[f"{prefix}_{k}"] = round(float(v), 4) if "auc" in k or "ks" in k else float(v)


if __name__ == "__main__":  # pragma: no cover - manual run
    import json
    import sys

    print(json.dumps(accuracy_metrics(quick="--quick" in sys.argv), indent=2, sort_keys=True))
