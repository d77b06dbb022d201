"""Model validation: discrimination (AUC, KS, Gini), calibration by decile, stability (PSI), IV.

Convention everywhere: ``y`` is 1 for a default (bad) and 0 for a good; ``pd`` is the predicted
probability of default, so a higher value must mean riskier.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from rongshu.lending.scoring.artifact import ModelArtifact

FloatArray = npt.NDArray[np.float64]
_EPS = 1e-6


def _arrays(y: Any, p: Any) -> tuple[FloatArray, FloatArray]:
    ya = np.asarray(y, dtype=np.float64).ravel()
    pa = np.asarray(p, dtype=np.float64).ravel()
    if ya.shape != pa.shape:
        raise ValueError("y and scores must have the same length")
    if not np.all((ya == 0) | (ya == 1)):
        raise ValueError("y must be 0 (good) or 1 (default)")
    if ya.min() == ya.max():
        raise ValueError("y must contain both goods and defaults")
    return ya, pa


def auc(y: Any, p: Any) -> float:
    """Area under the ROC curve (Mann-Whitney with average ranks for ties)."""
    ya, pa = _arrays(y, p)
    order = np.argsort(pa, kind="mergesort")
    ranks = np.empty(len(pa), dtype=np.float64)
    sorted_p = pa[order]
    # average ranks of tied groups
    _, start, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    avg = start + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    n1 = float(ya.sum())
    n0 = float(len(ya) - n1)
    return float((ranks[ya == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def ks(y: Any, p: Any) -> float:
    """Kolmogorov-Smirnov statistic: max gap between the bads' and goods' cumulative curves."""
    ya, pa = _arrays(y, p)
    thresholds = np.unique(pa)
    bad = np.sort(pa[ya == 1])
    good = np.sort(pa[ya == 0])
    cdf_bad = np.searchsorted(bad, thresholds, side="right") / len(bad)
    cdf_good = np.searchsorted(good, thresholds, side="right") / len(good)
    return float(np.max(np.abs(cdf_good - cdf_bad)))


def gini(y: Any, p: Any) -> float:
    return 2.0 * auc(y, p) - 1.0


def calibration_table(y: Any, p: Any, groups: int = 10) -> list[dict[str, float]]:
    """Predicted vs observed default rate per PD decile (lowest risk first)."""
    ya, pa = _arrays(y, p)
    order = np.argsort(pa, kind="mergesort")
    rows: list[dict[str, float]] = []
    for i, idx in enumerate(np.array_split(order, groups)):
        if len(idx) == 0:
            continue
        rows.append(
            {
                "decile": float(i + 1),
                "n": float(len(idx)),
                "pd_min": float(pa[idx].min()),
                "pd_max": float(pa[idx].max()),
                "predicted": float(pa[idx].mean()),
                "observed": float(ya[idx].mean()),
            }
        )
    return rows


def psi(expected: Any, actual: Any, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected``.

    Bins are the quantiles of ``expected`` (ties merged); empty bins are floored at 1e-6.
    Rule of thumb: < 0.1 stable, 0.1-0.25 watch, > 0.25 shifted.
    """
    e = np.asarray(expected, dtype=np.float64).ravel()
    a = np.asarray(actual, dtype=np.float64).ravel()
    e, a = e[~np.isnan(e)], a[~np.isnan(a)]
    if len(e) == 0 or len(a) == 0:
        raise ValueError("psi needs two non-empty samples")
    edges = np.unique(np.quantile(e, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    e_share = np.bincount(np.searchsorted(edges, e, side="right"), minlength=len(edges) + 1)
    a_share = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
    ep = np.maximum(e_share / len(e), _EPS)
    ap = np.maximum(a_share / len(a), _EPS)
    return float(np.sum((ap - ep) * np.log(ap / ep)))


def information_value(x: Any, y: Any, bins: int = 10) -> float:
    """IV of one feature on quantile bins (missing values form their own bin)."""
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    finite = ~np.isnan(xa)
    edges = (
        np.unique(np.quantile(xa[finite], np.linspace(0.0, 1.0, bins + 1))[1:-1])
        if finite.any()
        else np.empty(0)
    )
    idx = np.where(finite, np.searchsorted(edges, np.nan_to_num(xa), side="right"), len(edges) + 1)
    nb = len(edges) + 2
    bad = np.bincount(idx, weights=ya, minlength=nb)
    good = np.bincount(idx, weights=1.0 - ya, minlength=nb)
    keep = (bad + good) > 0
    pb = np.maximum(bad[keep] / max(bad.sum(), 1.0), _EPS)
    pg = np.maximum(good[keep] / max(good.sum(), 1.0), _EPS)
    return float(np.sum((pb - pg) * np.log(pb / pg)))


def binary_metrics(y: Any, p: Any) -> dict[str, float]:
    ya, pa = _arrays(y, p)
    a = auc(ya, pa)
    return {
        "auc": a,
        "ks": ks(ya, pa),
        "gini": 2.0 * a - 1.0,
        "brier": float(np.mean((pa - ya) ** 2)),
        "default_rate": float(ya.mean()),
        "mean_pd": float(pa.mean()),
        "n": float(len(ya)),
    }


def validation_report(
    model: ModelArtifact,
    sample: Sequence[Mapping[str, float | None]] | Any,
    y: Any,
    *,
    reference: Sequence[Mapping[str, float | None]] | Any | None = None,
) -> dict[str, Any]:
    """Validation report of a deployed model on a labelled sample.

    ``sample`` is a sequence of feature mappings or a pandas frame with the model's feature columns.
    With ``reference`` (e.g. the development sample), the report adds the score PSI and the
    PSI of every feature between the reference and ``sample``.
    """
    x = _matrix(model, sample)
    ya = np.asarray(y, dtype=np.float64).ravel()
    pd_ = model.predict_pd(x)
    report: dict[str, Any] = {
        "model": model.name,
        "version": model.version,
        "kind": model.kind,
        "sha256": model.sha256,
        **binary_metrics(ya, pd_),
        "calibration": calibration_table(ya, pd_),
        "iv": {f: information_value(x[:, j], ya) for j, f in enumerate(model.features)},
    }
    if reference is not None:
        xr = _matrix(model, reference)
        report["psi_score"] = psi(model.predict_pd(xr), pd_)
        report["psi_features"] = {f: psi(xr[:, j], x[:, j]) for j, f in enumerate(model.features)}
    return report


def _matrix(model: ModelArtifact, sample: Any) -> FloatArray:
    if hasattr(sample, "columns"):
        return np.asarray(sample[list(model.features)].to_numpy(dtype=np.float64), dtype=np.float64)
    return model.matrix(list(sample))


def hosmer_lemeshow_gap(table: Sequence[Mapping[str, float]]) -> float:
    """Largest absolute gap between predicted and observed default rate over the deciles."""
    return max((abs(r["predicted"] - r["observed"]) for r in table), default=math.nan)
