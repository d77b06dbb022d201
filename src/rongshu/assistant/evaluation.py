"""``rongshu assistant eval``: train an intent classifier on one CSV (``text,category``) and
measure it on another — accuracy, macro F1, per-message latency and training time.

Uses only the engine's public :class:`~rongshu.assistant.engine.IntentClassifier`
(``fit``/``predict``). Like ``bench/assistant.py`` it uses the configured sentence-embedding
model (:func:`rongshu.assistant.embeddings.default_model_dir`) unless told otherwise:
``embeddings`` = a model directory, or ``None`` for TF-IDF only.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from rongshu.assistant.engine import DEFAULT, IntentClassifier, resolve_embeddings


@dataclass(frozen=True)
class EvalResult:
    train_examples: int
    test_examples: int
    classes: int
    accuracy: float
    macro_f1: float
    p50_ms: float
    p99_ms: float
    train_s: float
    embeddings: str | None  # the model directory used, or None (TF-IDF only)


def read_labelled_csv(path: Path) -> tuple[list[str], list[str]]:
    """Rows of a CSV with a header naming ``text`` and ``category`` columns."""
    texts: list[str] = []
    labels: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = set(reader.fieldnames or [])
        if not {"text", "category"} <= fields:
            raise ValueError(f"{path} needs the columns text,category (has {sorted(fields)})")
        for row in reader:
            text, label = (row["text"] or "").strip(), (row["category"] or "").strip()
            if text and label:
                texts.append(text)
                labels.append(label)
    if not texts:
        raise ValueError(f"{path} has no rows")
    return texts, labels


def evaluate(
    train: Path,
    test: Path,
    *,
    embeddings: str | Path | None = DEFAULT,
    latency_sample: int = 500,
) -> EvalResult:
    """``embeddings``: :data:`~rongshu.assistant.engine.DEFAULT` (the configured model, as the
    benchmark does), a model directory, or ``None`` for TF-IDF only."""
    train_texts, train_labels = read_labelled_csv(train)
    test_texts, test_labels = read_labelled_csv(test)
    model_dir = resolve_embeddings(embeddings)
    started = time.perf_counter()
    model = IntentClassifier(embeddings=model_dir)
    model.fit(train_texts, train_labels)
    train_s = time.perf_counter() - started
    predicted = model.predict(test_texts)
    timings: list[float] = []
    for text in test_texts[:latency_sample]:  # one message at a time, as a channel asks
        t0 = time.perf_counter()
        model.predict([text])
        timings.append((time.perf_counter() - t0) * 1000)
    return EvalResult(
        train_examples=len(train_texts),
        test_examples=len(test_texts),
        classes=len(set(train_labels)),
        accuracy=float(accuracy_score(test_labels, predicted)),
        macro_f1=float(f1_score(test_labels, predicted, average="macro", zero_division=0)),
        p50_ms=float(np.percentile(timings, 50)),
        p99_ms=float(np.percentile(timings, 99)),
        train_s=train_s,
        embeddings=model_dir,
    )
