"""Small engines trained on the fly from a fixed part of the shipped FAQ set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rongshu.assistant import store
from rongshu.assistant.engine import KbEngine, train_kb_engine
from rongshu.assistant.services import do_load_faq_set, read_faq_set
from rongshu.assistant.types import FaqRecord

TOPICS = (
    "account_type2",
    "account_type3",
    "card_loss",
    "transfer",
    "lifepay",
    "quick_loan",
    "otp",
    "queue",
    "fraud",
    "deposit",
)


def subset() -> tuple[list[FaqRecord], list[str]]:
    records, oos = read_faq_set()
    chosen = [r for r in records if r.key.split(".")[0] in TOPICS]
    return chosen, oos["zh-hans"] + oos["en"]


@pytest.fixture(scope="session")
def small_engine() -> KbEngine:
    records, oos = subset()
    engine, _ = train_kb_engine(records, oos)
    return engine


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    store._cache.clear()
    return tmp_path


@pytest.fixture
def trained(db: None, data_dir: Path, small_engine: KbEngine) -> KbEngine:
    """The FAQ set in the database and the small engine saved as the current model."""
    do_load_faq_set()
    store.save_engine(small_engine)
    return small_engine
