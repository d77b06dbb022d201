from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test import Client

from rongshu.kernel import outbox


@pytest.fixture
def api_client() -> Client:
    return Client()


@pytest.fixture
def clean_handlers() -> Iterator[None]:
    """Restore the outbox handler registry after a test that registers its own."""
    saved = {k: list(v) for k, v in outbox._handlers.items()}
    try:
        yield
    finally:
        outbox._handlers.clear()
        outbox._handlers.update(saved)


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
