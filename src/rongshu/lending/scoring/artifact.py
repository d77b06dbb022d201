"""The deployable credit model: a frozen, serialisable artefact with a fast scoring path.

A :class:`ModelArtifact` carries everything needed to score an applicant without optbinning,
scikit-learn or pandas at request time:

* ``kind="scorecard"``: the WOE scorecard flattened into per-feature tables (bin edges, WOE,
  logistic coefficient, points). Scoring is a ``searchsorted`` per feature and a sum.
* ``kind="lightgbm"``: the LightGBM booster as its text model; reason codes come from the
  booster's per-feature contributions (``pred_contrib``).

Points follow the PDO/odds convention (``SCALING``): 600 points at good:bad odds 50:1, 20 points
to double the odds, so ``pd = 1 / (1 + exp((score - offset) / factor))`` for the unrounded score.

Serialisation (:meth:`ModelArtifact.to_bytes`) is canonical JSON: keys sorted, floats written
with ``repr`` round-trip precision, no pickle. The same artefact always gives the same bytes and
so the same :attr:`ModelArtifact.sha256`, which the model registry records and four-eyes approves.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FORMAT = "rongshu.lending.scoring/artifact"
FORMAT_VERSION = 1
MAX_REASONS = 4

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scaling:
    """Points scaling: ``base_points`` at good:bad odds ``base_odds``:1, ``pdo`` to double them."""

    base_points: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def score_from_logit(self, logit_bad: FloatArray) -> FloatArray:
        """Unrounded points for a log-odds of *default* (bad:good)."""
        return self.offset - self.factor * logit_bad

    def pd_from_score(self, score: float) -> float:
        """PD implied by a (possibly rounded) score."""
        return 1.0 / (1.0 + math.exp((score - self.offset) / self.factor))


SCALING = Scaling()


@dataclass(frozen=True)
class Reason:
    """An adverse factor: the feature and how many points it cost against its best value."""

    feature: str
    code: str
    points_lost: float


@dataclass(frozen=True)
class ScoreResult:
    score: int
    pd: float
    reasons: tuple[Reason, ...]


class _Engine(Protocol):
    def evaluate(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return (logit of default per row, points lost per row and feature)."""
        ...

    def payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FeatureTable:
    """One scorecard characteristic: numerical bins ``(-inf, s0), [s0, s1), ..., [sk, inf)``.

    ``woe`` has one entry per regular bin; ``missing_woe`` is used for missing (None/NaN)
    values. The contribution to the log-odds of default is ``coef * woe`` plus the shared
    intercept (optbinning's WOE is ``ln(%good / %bad)``, so coefficients are usually negative).
    """

    name: str
    splits: tuple[float, ...]
    woe: tuple[float, ...]
    missing_woe: float
    coef: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "splits": list(self.splits),
            "woe": list(self.woe),
            "missing_woe": self.missing_woe,
            "coef": self.coef,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FeatureTable:
        return cls(
            name=str(d["name"]),
            splits=tuple(float(v) for v in d["splits"]),
            woe=tuple(float(v) for v in d["woe"]),
            missing_woe=float(d["missing_woe"]),
            coef=float(d["coef"]),
        )


class ScorecardEngine:
    """Vectorised evaluation of a WOE logistic scorecard."""

    def __init__(self, tables: Sequence[FeatureTable], intercept: float, scaling: Scaling) -> None:
        self.tables = tuple(tables)
        self.intercept = float(intercept)
        self.scaling = scaling
        self._splits = [np.asarray(t.splits, dtype=np.float64) for t in self.tables]
        # Per feature: logit contribution of each regular bin followed by the missing bin.
        self._contrib = [
            np.asarray([*t.woe, t.missing_woe], dtype=np.float64) * t.coef for t in self.tables
        ]
        self._best = np.asarray([float(c.min()) for c in self._contrib], dtype=np.float64)

    def bin_index(self, x: FloatArray) -> npt.NDArray[np.intp]:
        """Bin of every value: regular bins ``0..k``, ``k+1`` for missing."""
        out = np.empty(x.shape, dtype=np.intp)
        for j, splits in enumerate(self._splits):
            col = x[:, j]
            idx = np.searchsorted(splits, col, side="right")
            idx[np.isnan(col)] = len(splits) + 1
            out[:, j] = idx
        return out

    def points_table(self) -> list[FloatArray]:
        """Points of every bin (regular bins, then missing) per feature, as the scorecard shows."""
        n = len(self.tables)
        f, off = self.scaling.factor, self.scaling.offset
        return [-(c + self.intercept / n) * f + off / n for c in self._contrib]

    def evaluate(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        idx = self.bin_index(x)
        contrib = np.empty(x.shape, dtype=np.float64)
        for j, c in enumerate(self._contrib):
            contrib[:, j] = c[idx[:, j]]
        logit = self.intercept + contrib.sum(axis=1)
        lost = (contrib - self._best) * self.scaling.factor
        return logit, lost

    def payload(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "tables": [t.to_json() for t in self.tables]}

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], scaling: Scaling) -> ScorecardEngine:
        tables = [FeatureTable.from_json(t) for t in d["tables"]]
        return cls(tables, float(d["intercept"]), scaling)


class LightGBMEngine:
    """A LightGBM booster held as its text model; reasons from per-feature contributions.

    A feature's points lost is ``factor * contribution`` to the log-odds of default where the
    contribution is positive: points lost against the portfolio's expected value (SHAP
    baseline), the tree-model analogue of "against the best bin".
    """

    def __init__(self, model_text: str, scaling: Scaling) -> None:
        import lightgbm as lgb

        self.model_text = model_text
        self.scaling = scaling
        self._booster = lgb.Booster(model_str=model_text)

    def evaluate(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        # One thread for small batches: OpenMP start-up costs more than a request's whole score.
        threads = 1 if x.shape[0] < 5000 else 2
        contrib = np.asarray(
            self._booster.predict(x, pred_contrib=True, num_threads=threads), dtype=np.float64
        )
        logit = contrib.sum(axis=1)
        lost = np.clip(contrib[:, :-1], 0.0, None) * self.scaling.factor
        return logit, lost

    def payload(self) -> dict[str, Any]:
        return {"model_text": self.model_text}


def reason_code(index: int) -> str:
    """Stable reason code of the feature at ``index`` in the model's feature list."""
    return f"R{index + 1:02d}"


class ModelArtifact:
    """A trained, frozen PD model (see module docstring)."""

    def __init__(
        self,
        *,
        name: str,
        version: str,
        kind: str,
        features: Sequence[str],
        metrics: Mapping[str, float],
        engine: ScorecardEngine | LightGBMEngine,
        scaling: Scaling = SCALING,
        reason_codes: Mapping[str, str] | None = None,
    ) -> None:
        if kind not in ("scorecard", "lightgbm"):
            raise ValueError(f"unknown model kind {kind!r}")
        self.name = name
        self.version = version
        self.kind = kind
        self.features: tuple[str, ...] = tuple(features)
        self.metrics: dict[str, float] = {k: float(v) for k, v in metrics.items()}
        self.scaling = scaling
        self.engine = engine
        self.reason_codes: dict[str, str] = dict(
            reason_codes or {f: reason_code(i) for i, f in enumerate(self.features)}
        )
        self._codes = [self.reason_codes[f] for f in self.features]

    # ------------------------------------------------------------------ scoring
    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> FloatArray:
        """Rows of feature mappings as a float matrix; None or absent values become NaN."""
        feats = self.features
        return np.array([[row.get(f) for f in feats] for row in rows], dtype=np.float64).reshape(
            len(rows), len(feats)
        )

    def score(self, features: Mapping[str, float | None]) -> ScoreResult:
        return self.score_many([features])[0]

    def score_many(self, rows: Sequence[Mapping[str, float | None]]) -> list[ScoreResult]:
        return self.score_matrix(self.matrix(rows))

    def score_matrix(self, x: FloatArray) -> list[ScoreResult]:
        logit, lost = self.engine.evaluate(x)
        scores = np.rint(self.scaling.score_from_logit(logit)).astype(np.int64)
        pds = 1.0 / (1.0 + np.exp(-logit))
        # Most points lost first; ties keep the feature order (stable sort).
        order = np.argsort(-lost, axis=1, kind="stable")[:, :MAX_REASONS]
        top = np.round(np.take_along_axis(lost, order, axis=1), 2)
        # Plain Python values for the per-row loop (numpy scalar access is ~10x slower).
        codes, feats = self._codes, self.features
        reason_of = [
            [Reason(feats[j], codes[j], v) for j, v in zip(o, t, strict=True) if v > 0.0]
            for o, t in zip(order.tolist(), top.tolist(), strict=True)
        ]
        out: list[ScoreResult] = []
        for sc, p, reasons in zip(scores.tolist(), pds.tolist(), reason_of, strict=True):
            out.append(ScoreResult(int(sc), float(p), tuple(reasons)))
        return out

    def predict_pd(self, x: FloatArray) -> FloatArray:
        """PD of every row of a feature matrix (columns in :attr:`features` order)."""
        logit, _ = self.engine.evaluate(x)
        return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)

    # ------------------------------------------------------------ serialisation
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "features": list(self.features),
            "metrics": dict(self.metrics),
            "reason_codes": dict(self.reason_codes),
            "scaling": {
                "base_points": self.scaling.base_points,
                "base_odds": self.scaling.base_odds,
                "pdo": self.scaling.pdo,
            },
            "model": self.engine.payload(),
        }

    def to_bytes(self) -> bytes:
        return json.dumps(
            self.to_json(), sort_keys=True, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelArtifact:
        d = json.loads(data.decode("utf-8"))
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ValueError("not a rongshu credit-model artefact")
        if d.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported artefact format version {d.get('format_version')!r}")
        sc = d["scaling"]
        scaling = Scaling(float(sc["base_points"]), float(sc["base_odds"]), float(sc["pdo"]))
        kind = str(d["kind"])
        engine: ScorecardEngine | LightGBMEngine
        if kind == "scorecard":
            engine = ScorecardEngine.from_payload(d["model"], scaling)
        elif kind == "lightgbm":
            engine = LightGBMEngine(str(d["model"]["model_text"]), scaling)
        else:
            raise ValueError(f"unknown model kind {kind!r}")
        return cls(
            name=str(d["name"]),
            version=str(d["version"]),
            kind=kind,
            features=[str(f) for f in d["features"]],
            metrics={str(k): float(v) for k, v in d["metrics"].items()},
            engine=engine,
            scaling=scaling,
            reason_codes={str(k): str(v) for k, v in d["reason_codes"].items()},
        )

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def __repr__(self) -> str:
        return f"ModelArtifact({self.name!r}, {self.version!r}, kind={self.kind!r})"
