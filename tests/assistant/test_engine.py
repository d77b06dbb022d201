"""Retrieval, fusion and out-of-scope detection on an engine trained on part of the FAQ set."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from rongshu.assistant.engine import (
    MODEL_FORMAT,
    FaqRetriever,
    KbEngine,
    Samples,
    train_kb_engine,
    training_samples,
)
from rongshu.assistant.services import read_tuning_set
from tests.assistant.conftest import subset


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("我的银行卡不见了怎么办", "card_loss.report"),  # zh paraphrase not in the set
        ("二類戶限額", "account_type2.limit"),  # traditional characters
        ("can I cancel a transfer I sent", "transfer.revoke"),  # en paraphrase not in the set
        ("how long is an OTP valid", "otp.time"),
    ],
)
def test_paraphrases_find_the_right_entry(small_engine: KbEngine, message: str, key: str) -> None:
    top = small_engine.rank(message, k=3)[0]
    assert top.key == key
    assert small_engine.is_confident(message, top)


@pytest.mark.parametrize(
    "message", ["帮我写一篇关于春天的作文", "who won the basketball game last night"]
)
def test_out_of_scope_is_not_answered(small_engine: KbEngine, message: str) -> None:
    top = small_engine.rank(message, k=1)[0]
    assert not small_engine.is_confident(message, top)


def test_bm25_retriever_ranks_lexical_matches_first() -> None:
    records, _ = subset()
    train, _ = training_samples(records)
    docs: dict[str, list[str]] = {}
    for text, key in zip(train.texts, train.labels, strict=True):
        docs.setdefault(key, []).append(text)
    retriever = FaqRetriever(sorted(docs.items()))
    assert retriever.top("二类户 限额", 1)[0][0] == "account_type2.limit"
    assert retriever.top("queue ticket missed my number", 1)[0][0] == "queue.missed"
    assert retriever.top("量子力学", 3) == []  # no shared words, no candidates


def test_hold_out_keeps_the_last_paraphrase_out_of_training() -> None:
    records, _ = subset()
    train, held = training_samples(records, hold_out_last=True)
    assert len(held.texts) == 2 * len(records)
    assert not set(held.texts) & set(train.texts)
    assert held.texts[0] == records[0].paraphrases_zh[-1]


def test_distribution_is_a_probability(small_engine: KbEngine) -> None:
    dist = small_engine.distribution("转账手续费")
    assert dist.min() >= 0.0 and dist.sum() == pytest.approx(1.0, abs=1e-6)
    assert small_engine.labels[int(dist.argmax())] == "transfer.fee"


def test_threshold_and_mixing_weight_follow_the_language_of_the_message(
    small_engine: KbEngine,
) -> None:
    assert set(small_engine.thresholds) == set(small_engine.alphas) == {"zh-hans", "en"}
    engine = dataclasses.replace(
        small_engine, thresholds={"zh-hans": 1.01, "en": 0.0}, alphas={"zh-hans": 1.0, "en": 0.5}
    )
    zh, en = "二类户限额是多少", "what is the limit of a type II account"
    assert not engine.is_confident(zh, engine.rank(zh)[0])  # nothing reaches 1.01
    assert engine.is_confident(en, engine.rank(en)[0])
    clf = engine.classifier_distribution([en])[0]
    assert np.allclose(engine.distribution(en), engine.mix(clf, en, 0.5))
    assert not np.allclose(engine.distribution(en), clf)
    assert np.allclose(engine.distribution(zh), engine.classifier_distribution([zh])[0])


def test_tuning_questions_tune_only_their_own_language() -> None:
    records, oos = subset()
    keys = {r.key for r in records}
    shipped = read_tuning_set()
    english = [(t, k) for t, k in zip(shipped.texts, shipped.labels, strict=True) if k in keys]
    assert len(english) >= 20
    # Every English tuning question labelled with another entry: English accuracy on the
    # tuning set is 0, so English answers need more confidence; Chinese is untouched.
    wrong = Samples([t for t, _ in english], [sorted(keys - {k})[0] for _, k in english])
    engine, _ = train_kb_engine(records, oos, embeddings=None, tuning=wrong)
    accuracy = engine.extra["calibration_accuracy"]
    assert accuracy["en"] == 0.0 and accuracy["zh-hans"] > 0.5
    right = Samples([t for t, _ in english], [k for _, k in english])
    tuned, _ = train_kb_engine(records, oos, embeddings=None, tuning=right)
    assert tuned.extra["calibration_accuracy"]["en"] > 0.5
    assert engine.threshold_for("en") >= tuned.threshold_for("en")


@pytest.mark.django_db
def test_trained_model_keeps_its_per_language_settings(data_dir: Any) -> None:
    from rongshu.assistant import store
    from rongshu.assistant.services import do_train_model

    records, oos = subset()
    result = do_train_model(records=records, out_of_scope=oos)
    engine = store.find_current_engine()
    assert engine is not None and engine.version == result.version
    assert engine.model_format == MODEL_FORMAT
    assert result.thresholds == {lang: engine.threshold_for(lang) for lang in ("zh-hans", "en")}
    assert result.alphas == {lang: engine.alpha_for(lang) for lang in ("zh-hans", "en")}
    assert set(engine.thresholds) == {"zh-hans", "en"}
