"""The intent classifier on a small fixed sample of BANKING77 (data/banking77, CC BY 4.0)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from rongshu.assistant.engine import IntentClassifier

BANKING77 = Path(__file__).resolve().parents[2] / "data" / "banking77" / "train.csv"
INTENTS = (
    "card_arrival",
    "lost_or_stolen_card",
    "exchange_rate",
    "pin_blocked",
    "top_up_failed",
    "cash_withdrawal_charge",
    "change_pin",
    "declined_transfer",
)


def _sample(per_class: int) -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = defaultdict(list)
    with BANKING77.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["category"] in INTENTS and len(by_intent[row["category"]]) < per_class:
                by_intent[row["category"]].append(row["text"])
    return by_intent


def test_classifier_learns_banking_intents_from_a_small_sample() -> None:
    data = _sample(40)
    train = [(t, k) for k, texts in data.items() for t in texts[:30]]
    test = [(t, k) for k, texts in data.items() for t in texts[30:]]
    assert len(train) == 240 and len(test) == 80
    model = IntentClassifier().fit([t for t, _ in train], [k for _, k in train])
    predicted = model.predict([t for t, _ in test])
    accuracy = float(np.mean([p == k for p, (_, k) in zip(predicted, test, strict=True)]))
    assert accuracy >= 0.8, accuracy
    assert sorted(model.classes) == sorted(INTENTS)


def test_confidence_is_a_calibrated_probability() -> None:
    data = _sample(40)
    texts = [t for texts in data.values() for t in texts[:25]]
    labels = [k for k, texts in data.items() for _ in texts[:25]]
    held_texts = [t for texts in data.values() for t in texts[25:40]]
    held_labels = [k for k, texts in data.items() for _ in texts[25:40]]
    model = IntentClassifier(temperature=1.0).fit(texts, labels)
    before = model.predict_proba(held_texts)
    temperature = model.calibrate(held_texts, held_labels)
    after = model.predict_proba(held_texts)
    assert np.allclose(after.sum(axis=1), 1.0)
    assert temperature > 1.0  # raw LinearSVC margins are far too flat for a softmax
    cols = [model.classes.index(k) for k in held_labels]
    rows = np.arange(len(cols))
    loss_before = -np.log(before[rows, cols]).mean()
    loss_after = -np.log(after[rows, cols]).mean()
    assert loss_after < loss_before
    # The most confident answers are right more often than the least confident ones.
    top = after.max(axis=1)
    correct = after.argmax(axis=1) == np.array(cols)
    order = np.argsort(top)
    half = len(order) // 2
    assert correct[order[half:]].mean() > correct[order[:half]].mean()
