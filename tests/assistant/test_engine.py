"""Retrieval, fusion and out-of-scope detection on an engine trained on part of the FAQ set."""

from __future__ import annotations

import pytest

from rongshu.assistant.engine import OOS_LABEL, FaqRetriever, KbEngine, training_samples
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
    assert top.probability >= small_engine.threshold


@pytest.mark.parametrize(
    "message", ["帮我写一篇关于春天的作文", "who won the basketball game last night"]
)
def test_out_of_scope_is_not_answered(small_engine: KbEngine, message: str) -> None:
    top = small_engine.rank(message, k=1)[0]
    assert top.key == OOS_LABEL or top.probability < small_engine.threshold


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
