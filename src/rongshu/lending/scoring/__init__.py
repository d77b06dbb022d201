"""Credit models for instant loans (快贷): scorecards, a LightGBM challenger, validation.

Pure Python (numpy/pandas/scikit-learn/optbinning/lightgbm); no Django and no other rongshu
domain. The lending domain stores :class:`ModelArtifact` bytes in its model registry and calls
:meth:`ModelArtifact.score` on the apply→disburse path. See ``docs/lending-models.md``.
"""

from rongshu.lending.scoring.artifact import ModelArtifact, Reason, ScoreResult
from rongshu.lending.scoring.bank import bank_feature_names, train_bank_model

__all__ = ["ModelArtifact", "Reason", "ScoreResult", "bank_feature_names", "train_bank_model"]
