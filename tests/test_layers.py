"""The import-linter contracts encode ARCHITECTURE.md §2 and fail when a layer is crossed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
    )


def test_contracts_hold_on_the_code() -> None:
    result = _lint(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imports"),
    [
        ("kernel/_probe.py", "import rongshu.api.base"),
        ("kernel/_probe.py", "from rongshu.web import views"),
        ("api/_probe.py", "import rongshu.simulation.demo"),
        ("api/_probe.py", "import rongshu.web.views"),
    ],
)
def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(
    tmp_path: Path, module: str, imports: str
) -> None:
    shutil.copytree(ROOT / "src" / "rongshu", tmp_path / "src" / "rongshu")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "rongshu" / module).write_text(imports + "\n")
    result = _lint(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
