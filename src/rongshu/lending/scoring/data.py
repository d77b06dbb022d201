"""Loaders for the public credit data sets kept under ``data/credit/`` (see their ORIGIN.md).

* German Credit (Statlog, UCI, CC BY 4.0): 1,000 applicants, 20 attributes, 300 bads.
* Default of Credit Card Clients (Taiwan, UCI, CC BY 4.0): 30,000 card holders, 22.1 % default.

The directory can be moved with ``RONGSHU_CREDIT_DATA``; by default it is the checkout's
``data/credit``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]


def credit_data_dir() -> Path:
    env = os.environ.get("RONGSHU_CREDIT_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[4] / "data" / "credit"


GERMAN_NUMERICAL = (
    "duration_in_month",
    "credit_amount",
    "installment_rate_in_percentage_of_disposable_income",
    "present_residence_since",
    "age_in_years",
    "number_of_existing_credits_at_this_bank",
    "number_of_people_being_liable_to_provide_maintenance_for",
)


def load_german() -> tuple[pd.DataFrame, IntArray, list[str]]:
    """German Credit: features, ``y`` (1 = bad) and the names of the categorical columns."""
    df = pd.read_csv(credit_data_dir() / "germancredit" / "germancredit.csv")
    y = (df.pop("creditability") == "bad").to_numpy().astype(np.int64)
    categorical = [c for c in df.columns if c not in GERMAN_NUMERICAL]
    for c in GERMAN_NUMERICAL:
        df[c] = df[c].astype(np.float64)
    for c in categorical:
        df[c] = df[c].astype(str)
    return df, y, categorical


def load_taiwan() -> tuple[pd.DataFrame, IntArray]:
    """Taiwan card default: the 23 UCI attributes X1..X23 (float) and ``y`` (1 = default)."""
    df = pd.read_csv(credit_data_dir() / "uci_credit_default" / "UCI_Credit_Card.csv")
    y = df.pop("Y").to_numpy().astype(np.int64)
    df = df.drop(columns=["ID"]).astype(np.float64)
    return df, y
