from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def fast_verifier(settings: Any) -> None:
    """The binding verifier without its network delay (its other behaviour unchanged)."""
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
