"""The understanding engine: an intent classifier, a BM25 FAQ retriever and their fusion.

Everything here is plain Python over scikit-learn, NumPy and rank-bm25 (no Django, no database),
so benchmarks and tests can train and query engines in memory. :mod:`rongshu.assistant.services`
feeds it the knowledge base and stores trained engines under ``DATA_DIR``.

* :class:`IntentClassifier` — TF-IDF word 1–2-grams (jieba words for Chinese) plus char_wb
  2–5-grams, a LinearSVC, and a softmax over its decision scores whose temperature is fitted
  by minimising the log-loss on held-out examples (calibrated confidence).
* :class:`FaqRetriever` — BM25 (Okapi) over each entry's question and paraphrases, one
  document per entry and language.
* :class:`KbEngine` — mixes both into one distribution over FAQ entries, with a confidence
  threshold (tuned on held-out paraphrases and out-of-scope examples) below which the
  assistant asks a clarifying question with the top suggestions instead of answering.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from rongshu.assistant.text import has_chinese, normalise, tokenize
from rongshu.assistant.types import FaqRecord

OOS_LABEL = "_out_of_scope"
BM25_SHARPNESS = 8.0
_TEMPERATURES = np.geomspace(0.5, 80.0, 40)
_POWERS = np.geomspace(0.05, 1.5, 30)
_ALPHAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    out: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return out


def features() -> FeatureUnion:
    """Word 1–2-grams over our tokens plus char_wb 2–5-grams, both sublinear TF-IDF."""
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    tokenizer=tokenize,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), lowercase=False, sublinear_tf=True
                ),
            ),
        ]
    )


class IntentClassifier:
    """A linear intent classifier with a calibrated softmax confidence."""

    def __init__(self, *, c: float = 0.5, temperature: float = 10.0) -> None:
        self.c = c
        self.temperature = temperature
        self.features = features()
        self.svm = LinearSVC(C=c)
        self.classes: list[str] = []

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> IntentClassifier:
        matrix = self.features.fit_transform([normalise(t) for t in texts])
        self.svm.fit(matrix, list(labels))
        self.classes = [str(c) for c in self.svm.classes_]
        return self

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        matrix = self.features.transform([normalise(t) for t in texts])
        scores: np.ndarray = np.asarray(self.svm.decision_function(matrix), dtype=float)
        if scores.ndim == 1:  # two classes: sklearn returns one column
            scores = np.column_stack([-scores, scores])
        return scores

    def proba_from_decision(self, scores: np.ndarray) -> np.ndarray:
        return _softmax(scores * self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.proba_from_decision(self.decision(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        scores = self.decision(texts)
        return [self.classes[i] for i in scores.argmax(axis=1)]

    def calibrate(self, texts: Sequence[str], labels: Sequence[str]) -> float:
        """Fit the softmax temperature on held-out examples (minimum log-loss); returns it."""
        scores = self.decision(texts)
        index = {c: i for i, c in enumerate(self.classes)}
        known = [i for i, label in enumerate(labels) if label in index]
        if not known:
            return self.temperature
        rows = np.array(known)
        cols = np.array([index[labels[i]] for i in known])
        best, best_loss = self.temperature, float("inf")
        for t in _TEMPERATURES:
            proba = _softmax(scores[rows] * t)
            loss = float(-np.log(np.clip(proba[np.arange(len(rows)), cols], 1e-12, 1.0)).mean())
            if loss < best_loss:
                best, best_loss = float(t), loss
        self.temperature = best
        return best


class FaqRetriever:
    """BM25 over FAQ questions and paraphrases; scores per key (best of its documents)."""

    def __init__(self, documents: Sequence[tuple[str, Sequence[str]]]) -> None:
        corpus = [tokenize(normalise(" 。 ".join(texts))) for _, texts in documents]
        self.doc_keys = [key for key, _ in documents]
        self.keys = sorted(set(self.doc_keys))
        self._key_index = {k: i for i, k in enumerate(self.keys)}
        self._doc_to_key = np.array([self._key_index[k] for k in self.doc_keys])
        self.bm25 = BM25Okapi([doc or ["∅"] for doc in corpus])

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every key (``self.keys`` order) for one message."""
        tokens = tokenize(normalise(text))
        per_doc = np.asarray(self.bm25.get_scores(tokens), dtype=float) if tokens else None
        out = np.zeros(len(self.keys))
        if per_doc is not None:
            np.maximum.at(out, self._doc_to_key, per_doc)
        return out

    def top(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        scores = self.scores(text)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.keys[i], float(scores[i])) for i in order if scores[i] > 0]


@dataclass(frozen=True)
class Ranked:
    key: str
    probability: float


def split_key(key: str) -> tuple[str, str]:
    """``"transfer.fee"`` → ``("transfer", "fee")``: the topic (product or flow) and the
    aspect asked about; a key without a dot is its own topic with aspect ``"_"``."""
    topic, _, aspect = key.partition(".")
    return topic, aspect or "_"


@dataclass
class KbEngine:
    """A trained model of the knowledge base.

    Two classifiers factor a question into *what it is about* (the topic: a product or flow,
    plus :data:`OOS_LABEL` for questions outside the bank) and *what is asked* (the aspect:
    fees, limits, how to apply …), so an aspect learnt on one product transfers to the others.
    Their product over the entries that exist is mixed with a BM25 retrieval distribution.
    """

    version: str
    records: dict[str, FaqRecord]
    topics: IntentClassifier
    aspects: IntentClassifier
    retriever: FaqRetriever
    alpha: float = 0.8
    threshold: float = 0.3
    power: float = 1.0
    calibration_accuracy: float = 0.0
    trained_samples: int = 0
    train_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.labels = [*sorted(self.records), OOS_LABEL]
        topic_index = {c: i for i, c in enumerate(self.topics.classes)}
        aspect_index = {c: i for i, c in enumerate(self.aspects.classes)}
        pairs = [split_key(k) for k in self.labels[:-1]]
        self._topic_cols = np.array([topic_index.get(t, -1) for t, _ in pairs])
        self._aspect_cols = np.array([aspect_index.get(a, -1) for _, a in pairs])
        self._oos_col = topic_index.get(OOS_LABEL, -1)
        self._bm25_cols = np.array([self.retriever._key_index.get(k, -1) for k in self.labels[:-1]])

    def classifier_distribution(self, texts: Sequence[str]) -> np.ndarray:
        """P(entry) from the two classifiers, one row per text over ``self.labels``."""
        pt = self.topics.predict_proba(texts)
        pa = self.aspects.predict_proba(texts)
        rows = len(texts)
        joint = np.zeros((rows, len(self.labels) - 1))
        ok = (self._topic_cols >= 0) & (self._aspect_cols >= 0)
        joint[:, ok] = pt[:, self._topic_cols[ok]] * pa[:, self._aspect_cols[ok]]
        p_oos = pt[:, self._oos_col] if self._oos_col >= 0 else np.zeros(rows)
        joint = np.power(joint, self.power)  # one exponent calibrates the product
        mass = joint.sum(axis=1, keepdims=True)
        joint = np.divide(joint, mass, out=np.zeros_like(joint), where=mass > 0)
        return np.column_stack([joint * (1 - p_oos)[:, None], p_oos])

    def bm25_distribution(self, text: str) -> np.ndarray:
        raw = self.retriever.scores(text)
        out = np.zeros(len(self.labels))
        top = raw.max() if raw.size else 0.0
        if top <= 0:
            return out
        soft = _softmax((raw / top * BM25_SHARPNESS)[None, :])[0]
        ok = self._bm25_cols >= 0
        out[:-1][ok] = soft[self._bm25_cols[ok]]
        return out

    def mix(self, clf: np.ndarray, text: str, alpha: float) -> np.ndarray:
        if alpha >= 1.0:
            return clf
        return alpha * clf + (1 - alpha) * self.bm25_distribution(text)

    def distribution(self, text: str) -> np.ndarray:
        """Probability over ``self.labels`` (the entries, then :data:`OOS_LABEL`)."""
        return self.mix(self.classifier_distribution([text])[0], text, self.alpha)

    def rank(self, text: str, k: int = 3) -> list[Ranked]:
        """The top ``k`` labels (may include :data:`OOS_LABEL`), most likely first."""
        dist = self.distribution(text)
        order = np.argsort(-dist, kind="stable")[:k]
        return [Ranked(self.labels[i], float(dist[i])) for i in order]


# ------------------------------------------------------------------ training
@dataclass(frozen=True)
class Samples:
    texts: list[str]
    labels: list[str]


def training_samples(
    records: Iterable[FaqRecord], *, hold_out_last: bool = False
) -> tuple[Samples, Samples]:
    """Questions and paraphrases of both languages as (text, key) pairs.

    With ``hold_out_last`` the last paraphrase of each entry and language is returned
    separately (never trained on) for evaluation.
    """
    train = Samples([], [])
    held = Samples([], [])
    for record in records:
        for language in ("zh-hans", "en"):
            paraphrases = list(record.paraphrases(language))
            if hold_out_last and len(paraphrases) >= 2:
                held.texts.append(paraphrases.pop())
                held.labels.append(record.key)
            for text in [record.question(language), *paraphrases]:
                train.texts.append(text)
                train.labels.append(record.key)
    return train, held


def _documents(samples: Samples) -> list[tuple[str, list[str]]]:
    grouped: dict[tuple[str, bool], list[str]] = {}
    for text, label in zip(samples.texts, samples.labels, strict=True):
        if label == OOS_LABEL:
            continue
        grouped.setdefault((label, has_chinese(text)), []).append(text)
    return [(key, texts) for (key, _), texts in sorted(grouped.items())]


def _split_for_calibration(samples: Samples) -> tuple[Samples, Samples]:
    """Hold out the last example of each (label, language) with ≥ 3 examples."""
    groups: dict[tuple[str, bool], list[int]] = {}
    for i, (text, label) in enumerate(zip(samples.texts, samples.labels, strict=True)):
        groups.setdefault((label, has_chinese(text)), []).append(i)
    held = {idx[-1] for (label, _), idx in groups.items() if len(idx) >= 3 or label == OOS_LABEL}
    fit = Samples([], [])
    cal = Samples([], [])
    for i, (text, label) in enumerate(zip(samples.texts, samples.labels, strict=True)):
        target = cal if i in held else fit
        target.texts.append(text)
        target.labels.append(label)
    return fit, cal


def _utility(correct: np.ndarray, oos: np.ndarray, confidence: np.ndarray, t: float) -> float:
    """+1 right answer, −1 wrong answer or answered out-of-scope, +1 out-of-scope declined."""
    answered = confidence >= t
    good = (answered & correct & ~oos).sum() + (~answered & oos).sum()
    bad = (answered & ~correct & ~oos).sum() + (answered & oos).sum()
    return float(good - bad)


def train_kb_engine(
    records: Sequence[FaqRecord],
    out_of_scope: Sequence[str] = (),
    *,
    hold_out_last: bool = False,
    c: float = 0.5,
) -> tuple[KbEngine, Samples]:
    """Train an engine on ``records`` (+ out-of-scope examples as one extra class).

    Returns the engine and the held-out paraphrases (empty unless ``hold_out_last``).
    """
    started = time.perf_counter()
    train, held = training_samples(records, hold_out_last=hold_out_last)
    oos = list(out_of_scope)
    train.texts.extend(oos)
    train.labels.extend([OOS_LABEL] * len(oos))
    fit, cal = _split_for_calibration(train)
    by_key = {r.key: r for r in records}

    # 1. Fit on part of the data, tune temperatures, mixing weight and threshold on the rest.
    probe = _fit_engine("probe", by_key, fit, c)
    probe.topics.calibrate(cal.texts, [_topic_of(label) for label in cal.labels])
    probe.aspects.calibrate(
        [t for t, label in zip(cal.texts, cal.labels, strict=True) if label != OOS_LABEL],
        [split_key(label)[1] for label in cal.labels if label != OOS_LABEL],
    )
    truth = np.array(cal.labels)
    columns = np.array([probe.labels.index(label) for label in cal.labels])
    best_loss = float("inf")
    for power in _POWERS:
        probe.power = float(power)
        proba = probe.classifier_distribution(cal.texts)[np.arange(len(columns)), columns]
        loss = float(-np.log(np.clip(proba, 1e-12, 1.0)).mean())
        if loss < best_loss:
            best_loss, power_fit = loss, float(power)
    probe.power = power_fit
    clf = probe.classifier_distribution(cal.texts)
    is_oos = truth == OOS_LABEL
    best: tuple[float, float, float, float] | None = None  # (utility, accuracy, alpha, t)
    for alpha in _ALPHAS:
        mixed = np.vstack([probe.mix(clf[i], text, alpha) for i, text in enumerate(cal.texts)])
        predicted = np.array([probe.labels[i] for i in mixed.argmax(axis=1)])
        confidence = np.where(predicted == OOS_LABEL, 0.0, mixed.max(axis=1))
        correct = predicted == truth
        accuracy = float(correct[~is_oos].mean()) if (~is_oos).any() else 0.0
        for t in np.linspace(0.05, 0.9, 35):
            utility = _utility(correct, is_oos, confidence, float(t))
            candidate = (utility, accuracy, alpha, float(t))
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    assert best is not None
    _, accuracy, alpha, threshold = best

    # 2. Refit on everything with the tuned settings.
    engine = _fit_engine("", by_key, train, c)
    engine.topics.temperature = probe.topics.temperature
    engine.aspects.temperature = probe.aspects.temperature
    digest = hashlib.sha256(
        json.dumps([train.texts, train.labels], ensure_ascii=False).encode()
    ).hexdigest()[:10]
    engine.version = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{digest}"
    engine.power = power_fit
    engine.alpha = alpha
    engine.threshold = threshold
    engine.calibration_accuracy = accuracy
    engine.trained_samples = len(train.texts)
    engine.train_seconds = time.perf_counter() - started
    return engine, held


def _topic_of(label: str) -> str:
    return OOS_LABEL if label == OOS_LABEL else split_key(label)[0]


def _fit_engine(
    version: str, records: dict[str, FaqRecord], samples: Samples, c: float
) -> KbEngine:
    topics = IntentClassifier(c=c).fit(samples.texts, [_topic_of(x) for x in samples.labels])
    pairs = [(t, x) for t, x in zip(samples.texts, samples.labels, strict=True) if x != OOS_LABEL]
    aspects = IntentClassifier(c=c).fit([t for t, _ in pairs], [split_key(x)[1] for _, x in pairs])
    return KbEngine(
        version=version,
        records=records,
        topics=topics,
        aspects=aspects,
        retriever=FaqRetriever(_documents(samples)),
    )
