from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def predictable_sms(settings: Any) -> None:
    """The SMS simulator without random failures or delivery delay, and with room for the
    many codes a test sends (tests of those behaviours set their own configuration)."""
    settings.RONGSHU_SMS_SIMULATOR = {
        "failure_rate": 0.0,
        "min_delay_ms": 0,
        "max_delay_ms": 0,
        "per_minute": 1000,
        "per_hour": 1000,
        "per_day": 1000,
        "seed": 7,
    }
