from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.insight.lake_fixture import build_lake


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lake(tmp_path_factory.mktemp("lake"))


@pytest.fixture(autouse=True)
def insight_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Build results go to a per-test folder, never to the shared var/."""
    folder = tmp_path / "insight-results"
    monkeypatch.setenv("RONGSHU_INSIGHT_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from rongshu.insight.engine import get_spark

    return get_spark("local[2]")
