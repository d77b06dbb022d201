"""``rongshu assistant eval --train FILE --test FILE`` prints accuracy, macro F1 and latency."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rongshu.assistant.embeddings import default_model_dir

TRAIN = [
    ("what is my balance", "balance"),
    ("how much money is in my account", "balance"),
    ("show me my balance please", "balance"),
    ("check account balance", "balance"),
    ("my card was stolen", "lost_card"),
    ("i lost my card", "lost_card"),
    ("someone took my card", "lost_card"),
    ("card missing please block it", "lost_card"),
]
TEST = [("balance of my account", "balance"), ("my card got stolen yesterday", "lost_card")]


def write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


def test_eval_prints_the_figures(tmp_path: Path) -> None:
    out = StringIO()
    call_command(
        "assistant",
        "eval",
        "--train",
        str(write(tmp_path / "train.csv", TRAIN)),
        "--test",
        str(write(tmp_path / "test.csv", TEST)),
        stdout=out,
    )
    lines = dict(line.split(" ", 1) for line in out.getvalue().splitlines()[1:])
    assert float(lines["accuracy"]) == 1.0
    assert float(lines["macro_f1"]) == 1.0
    assert float(lines["p99_ms"]) >= float(lines["p50_ms"]) > 0


def _run(tmp_path: Path, *flags: str) -> dict[str, str]:
    out = StringIO()
    train = write(tmp_path / "train.csv", TRAIN)
    test = write(tmp_path / "test.csv", TEST)
    call_command(
        "assistant", "eval", "--train", str(train), "--test", str(test), *flags, stdout=out
    )
    return dict(line.split(" ", 1) for line in out.getvalue().splitlines()[1:])


def test_eval_uses_the_configured_embeddings_unless_told_not_to(tmp_path: Path) -> None:
    configured = default_model_dir()
    assert _run(tmp_path)["embeddings"] == (str(configured) if configured else "off")
    assert _run(tmp_path, "--no-embeddings")["embeddings"] == "off"
    with pytest.raises(CommandError, match="exclude each other"):
        _run(tmp_path, "--no-embeddings", "--embeddings", str(tmp_path))


def test_eval_refuses_files_without_the_columns(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,label\nhi,greet\n", encoding="utf-8")
    with pytest.raises(CommandError, match="text,category"):
        call_command("assistant", "eval", "--train", str(bad), "--test", str(bad))
    with pytest.raises(CommandError, match="needs --train"):
        call_command("assistant", "eval")
