from __future__ import annotations

import pytest

from rongshu.lending.scoring import ModelArtifact, train_bank_model


@pytest.fixture(scope="session")
def bank_scorecard() -> ModelArtifact:
    return train_bank_model(seed=3, n=6000)


@pytest.fixture(scope="session")
def bank_lightgbm() -> ModelArtifact:
    return train_bank_model(seed=3, n=2000, kind="lightgbm")
