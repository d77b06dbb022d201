"""The synthetic bank's 快贷 model: feature spec, a documented synthetic population, training.

The bank has no loan history of its own, so the demo model is trained on a **synthetic**
population whose probability of default is a published function (:func:`true_logit`) of
features the bank can compute from its own data. Everything is seeded: the same ``seed`` and
``n`` give the same population, the same model and the same artefact bytes.

Feature spec (monthly figures in CNY, averaged over the last 6 months):

===========================  ================================================================
``payroll_inflow_avg``       average monthly salary credits (代发工资) into the customer's accounts
``balance_avg``              average end-of-day deposit balance
``tenure_months``            months since the customer's first account was opened
``age``                      age in whole years at scoring date
``products_held``            number of active products (accounts, cards, wealth, insurance)
``debt_service_monthly``     existing monthly loan repayments (this bank + credit bureau)
``late_payments_12m``        instalments paid late in the last 12 months
``card_spend_monthly``       average monthly credit-card spend
===========================  ================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rongshu.lending.scoring.artifact import ModelArtifact

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BANK_FEATURES: tuple[str, ...] = (
    "payroll_inflow_avg",
    "balance_avg",
    "tenure_months",
    "age",
    "products_held",
    "debt_service_monthly",
    "late_payments_12m",
    "card_spend_monthly",
)

MODEL_NAME = "kuaidai-pd"

#: The published PD function (log-odds of default). ``k(v) = ln(1 + v / 1000)``.
#:   logit = B0 - 0.45 k(payroll) - 0.30 k(balance) - 0.08 min(tenure, 120) / 12
#:           + 0.25 ((age - 42) / 10)^2 - 0.15 (products - 1)
#:           + 1.20 min(debt_service / max(payroll, 1000), 2) + 0.55 late_payments
#:           + 0.10 k(card_spend) + e,   e ~ N(0, NOISE_SD)
PD_COEFFICIENTS: dict[str, float] = {
    "intercept": -1.60,
    "log_payroll": -0.45,
    "log_balance": -0.30,
    "tenure_years_capped": -0.08,
    "age_sq": 0.25,
    "extra_products": -0.15,
    "debt_to_income": 1.20,
    "late_payments": 0.55,
    "log_card_spend": 0.10,
}
NOISE_SD = 0.5


def bank_feature_names() -> tuple[str, ...]:
    return BANK_FEATURES


@dataclass(frozen=True)
class Population:
    x: pd.DataFrame
    y: IntArray
    true_pd: FloatArray


def _k(v: FloatArray) -> FloatArray:
    return np.asarray(np.log1p(v / 1000.0), dtype=np.float64)


def true_logit(x: pd.DataFrame) -> FloatArray:
    """The published log-odds of default, without the noise term."""
    c = PD_COEFFICIENTS
    payroll = x["payroll_inflow_avg"].to_numpy(dtype=np.float64)
    dti = np.minimum(
        x["debt_service_monthly"].to_numpy(dtype=np.float64) / np.maximum(payroll, 1000.0), 2.0
    )
    age = x["age"].to_numpy(dtype=np.float64)
    out = (
        c["intercept"]
        + c["log_payroll"] * _k(payroll)
        + c["log_balance"] * _k(x["balance_avg"].to_numpy(dtype=np.float64))
        + c["tenure_years_capped"]
        * np.minimum(x["tenure_months"].to_numpy(dtype=np.float64), 120.0)
        / 12.0
        + c["age_sq"] * ((age - 42.0) / 10.0) ** 2
        + c["extra_products"] * (x["products_held"].to_numpy(dtype=np.float64) - 1.0)
        + c["debt_to_income"] * dti
        + c["late_payments"] * x["late_payments_12m"].to_numpy(dtype=np.float64)
        + c["log_card_spend"] * _k(x["card_spend_monthly"].to_numpy(dtype=np.float64))
    )
    return np.asarray(out, dtype=np.float64)


def synthetic_population(*, seed: int = 1, n: int = 20_000) -> Population:
    """Draw ``n`` synthetic customers and their default flags (1 = default within 12 months)."""
    rng = np.random.default_rng(seed)
    age = np.clip(np.rint(rng.normal(38.0, 10.0, n)), 20, 65)
    tenure = np.minimum(np.rint(rng.gamma(2.0, 30.0, n)), (age - 18.0) * 12.0)
    salaried = rng.random(n) < 0.8
    payroll = np.where(salaried, np.round(rng.lognormal(np.log(8000.0), 0.5, n), -1), 0.0)
    wealth = rng.normal(0.0, 0.8, n)
    balance = np.round(
        np.exp(np.log(np.maximum(payroll, 3000.0) * 1.5) + 0.03 * (age - 38.0) + wealth), 0
    )
    products = np.clip(1 + rng.poisson(1.0 + 0.01 * tenure, n), 1, 8)
    has_debt = rng.random(n) < 0.4
    debt = np.where(
        has_debt, np.round(np.maximum(payroll, 3000.0) * rng.beta(2.0, 5.0, n) * 1.2, -1), 0.0
    )
    late = rng.poisson(np.where(rng.random(n) < 0.15, 1.5, 0.1), n)
    has_card = rng.random(n) < 0.7
    spend = np.where(
        has_card, np.round(np.maximum(payroll, 2000.0) * rng.beta(2.0, 6.0, n), -1), 0.0
    )
    x = pd.DataFrame(
        {
            "payroll_inflow_avg": payroll,
            "balance_avg": balance,
            "tenure_months": tenure,
            "age": age,
            "products_held": products.astype(np.float64),
            "debt_service_monthly": debt,
            "late_payments_12m": late.astype(np.float64),
            "card_spend_monthly": spend,
        }
    )
    logit = true_logit(x) + rng.normal(0.0, NOISE_SD, n)
    pd_ = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.random(n) < pd_).astype(np.int64)
    return Population(x, y, np.asarray(pd_, dtype=np.float64))


def split_index(y: IntArray, *, seed: int, test_size: float = 0.3) -> tuple[IntArray, IntArray]:
    """Stratified development/validation split of row positions."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)


def train_bank_model(*, seed: int = 1, n: int = 20_000, kind: str = "scorecard") -> ModelArtifact:
    """Train the demo 快贷 PD model on the synthetic population (70/30 dev/validation split).

    ``metrics`` holds the validation figures on the 30 % hold-out (``auc``, ``ks``, ``gini``,
    ``brier``, ``default_rate``, ``mean_pd``), ``psi_dev_val`` (score PSI between the two
    samples), ``auc_true_pd`` (the AUC of the true PD on the hold-out: the ceiling), and
    ``n_train``/``n_validation``/``seed``.
    """
    from rongshu.lending.scoring import models
    from rongshu.lending.scoring.validation import binary_metrics, psi

    if kind not in ("scorecard", "lightgbm"):
        raise ValueError(f"kind must be 'scorecard' or 'lightgbm', not {kind!r}")
    if n < 1000:
        raise ValueError("n must be at least 1000")
    pop = synthetic_population(seed=seed, n=n)
    tr, va = split_index(pop.y, seed=seed)
    x_tr, x_va = pop.x.iloc[tr].reset_index(drop=True), pop.x.iloc[va].reset_index(drop=True)
    ytr, yva = pop.y[tr], pop.y[va]
    version = f"{kind}-s{seed}-n{n}"
    features = list(BANK_FEATURES)
    fitted: Any
    if kind == "scorecard":
        fitted = models.fit_scorecard(x_tr, ytr)
        art = models.scorecard_artifact(
            fitted, name=MODEL_NAME, version=version, features=features, metrics={}
        )
    else:
        fitted = models.fit_lightgbm(x_tr, ytr, seed=seed)
        art = models.lightgbm_artifact(
            fitted, name=MODEL_NAME, version=version, features=features, metrics={}
        )
    p_tr = art.predict_pd(x_tr.to_numpy(dtype=np.float64))
    p_va = art.predict_pd(x_va.to_numpy(dtype=np.float64))
    metrics = binary_metrics(yva, p_va)
    metrics["psi_dev_val"] = psi(p_tr, p_va)
    metrics["auc_true_pd"] = binary_metrics(yva, pop.true_pd[va])["auc"]
    metrics["n_train"] = float(len(tr))
    metrics["n_validation"] = float(len(va))
    metrics["seed"] = float(seed)
    metrics.pop("n", None)
    return ModelArtifact(
        name=art.name,
        version=art.version,
        kind=art.kind,
        features=art.features,
        metrics={k: round(v, 6) for k, v in metrics.items()},
        engine=art.engine,
        scaling=art.scaling,
    )
