from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from rongshu.kernel import outbox


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


@pytest.fixture
def api_client() -> Client:
    return Client()


@pytest.fixture
def clean_handlers() -> Iterator[None]:
    """Restore the outbox handler registry after a test that registers its own."""
    saved = {k: list(v) for k, v in outbox._handlers.items()}
    saved_external = set(outbox._external)
    try:
        yield
    finally:
        outbox._handlers.clear()
        outbox._handlers.update(saved)
        outbox._external.clear()
        outbox._external.update(saved_external)


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
