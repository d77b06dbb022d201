"""The hand-written evaluation sets in data/assistant never overlap the training data."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

import pytest

from rongshu.assistant.engine import OOS_LABEL, lexicon_samples, load_lexicon, split_key
from rongshu.assistant.services import read_faq_set, read_tuning_set
from rongshu.assistant.text import has_chinese, normalise

EVAL = Path(__file__).resolve().parents[2] / "data" / "assistant"
SETS = {"zh_eval": 500, "zh_dev": 500, "en_eval": 100}


def _read(name: str) -> list[tuple[str, str]]:
    with (EVAL / f"{name}.csv").open(encoding="utf-8") as handle:
        return [(row["text"], row["key"]) for row in csv.DictReader(handle)]


def _training_texts() -> set[str]:
    records, oos = read_faq_set()
    texts = {q for r in records for lang in ("zh-hans", "en") for q in r.paraphrases(lang)}
    texts |= {r.question(lang) for r in records for lang in ("zh-hans", "en")}
    texts |= {t for lang in oos.values() for t in lang}
    lexicon = load_lexicon()
    for samples in lexicon_samples(records, lexicon):
        texts |= set(samples.texts)
    texts |= {t for lang in lexicon.out_of_scope.values() for t in lang}
    return {normalise(t) for t in texts}


@pytest.mark.parametrize(("name", "minimum"), sorted(SETS.items()))
def test_sets_are_big_labelled_and_in_their_language(name: str, minimum: int) -> None:
    rows = _read(name)
    records, _ = read_faq_set()
    keys = {r.key for r in records}
    assert len(rows) >= minimum
    assert {key for _, key in rows} <= keys
    assert OOS_LABEL not in {key for _, key in rows}
    chinese = name.startswith("zh")
    assert all(has_chinese(text) == chinese for text, _ in rows)
    assert len({normalise(text) for text, _ in rows}) == len(rows)  # no repeats


def test_no_evaluation_question_is_training_text() -> None:
    training = _training_texts()
    for name in SETS:
        leaked = [text for text, _ in _read(name) if normalise(text) in training]
        assert not leaked, (name, leaked[:5])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_hand_written_paraphrases_are_not_near_copies_of_evaluation_questions(
    language: str,
) -> None:
    """The hand-written extras (after each entry's 3 generated paraphrases) keep a 0.8
    similarity ratio away from every evaluation and dev question and every tuning question."""
    records, _ = read_faq_set()
    extra = {
        normalise(p)
        for r in records
        for p in (r.paraphrases_zh if language == "zh-hans" else r.paraphrases_en)[3:]
    }
    assert len(extra) >= 300
    questions = [normalise(text) for name in SETS for text, _ in _read(name)]
    questions += [normalise(text) for text in read_tuning_set().texts]
    for paraphrase in extra:
        close = difflib.get_close_matches(paraphrase, questions, n=1, cutoff=0.8)
        assert not close, (paraphrase, close)


def test_dev_and_eval_sets_do_not_share_questions() -> None:
    dev = {normalise(t) for t, _ in _read("zh_dev")}
    assert not dev & {normalise(t) for t, _ in _read("zh_eval")}


def test_every_entry_has_an_evaluation_question() -> None:
    records, _ = read_faq_set()
    assert {k for _, k in _read("zh_eval")} == {r.key for r in records}


def test_lexicon_only_labels_topics_and_aspects_that_exist() -> None:
    records, _ = read_faq_set()
    topic_cues, aspect_cues, crossed = lexicon_samples(records, load_lexicon())
    topics = {split_key(r.key)[0] for r in records}
    aspects = {split_key(r.key)[1] for r in records}
    keys = {r.key for r in records}
    assert set(topic_cues.labels) <= topics and set(aspect_cues.labels) <= aspects
    assert set(crossed.labels) <= keys and len(crossed.texts) > len(records)
    assert lexicon_samples(records, load_lexicon()) == (topic_cues, aspect_cues, crossed)


def test_english_tuning_questions_are_labelled_new_and_not_copies_of_the_blind_set() -> None:
    """``data/tuning.en.csv`` tunes the English mixing weight and threshold: real entries,
    English, no repeats, no training text, and not within a 0.8 similarity ratio of an
    evaluation question (the blind sets are never tuned on)."""
    tuning = read_tuning_set()
    records, _ = read_faq_set()
    assert len(tuning.texts) >= 300
    assert set(tuning.labels) <= {r.key for r in records}
    assert not any(has_chinese(t) for t in tuning.texts)
    normalised = [normalise(t) for t in tuning.texts]
    assert len(set(normalised)) == len(normalised)
    assert not set(normalised) & _training_texts()
    questions = [normalise(text) for name in SETS for text, _ in _read(name)]
    for text in normalised:
        close = difflib.get_close_matches(text, questions, n=1, cutoff=0.8)
        assert not close, (text, close)
