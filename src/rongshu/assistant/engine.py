"""The understanding engine: an intent classifier, a BM25 FAQ retriever and their fusion.

Everything here is plain Python over scikit-learn, NumPy and rank-bm25 (no Django, no database),
so benchmarks and tests can train and query engines in memory. :mod:`rongshu.assistant.services`
feeds it the knowledge base and stores trained engines under ``DATA_DIR``.

* :class:`IntentClassifier` — TF-IDF word 1–2-grams (jieba words for Chinese) plus char_wb
  2–5-grams, optionally joined by sentence embeddings (:mod:`rongshu.assistant.embeddings`,
  all-MiniLM-L6-v2 run in NumPy, when a local model is configured), a LinearSVC, and a
  softmax over its decision scores whose temperature is fitted by minimising the log-loss on
  held-out examples (calibrated confidence).
* :class:`FaqRetriever` — BM25 (Okapi) over each entry's question and paraphrases, one
  document per entry and language.
* :class:`KbEngine` — mixes both into one distribution over FAQ entries, with a confidence
  threshold below which the assistant asks a clarifying question with the top suggestions
  instead of answering. The mixing weight and the threshold are tuned *per language* (the
  language of the message, :func:`~rongshu.assistant.text.detect_language`): Chinese on its
  held-out calibration examples, English on hand-written tuning questions when given
  (``data/tuning.en.csv``), each with that language's held-out out-of-scope examples.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from rongshu.assistant import embeddings as emb
from rongshu.assistant.text import detect_language, has_chinese, normalise, tokenize
from rongshu.assistant.types import FaqRecord

OOS_LABEL = "_out_of_scope"
BM25_SHARPNESS = 8.0
_TEMPERATURES = np.geomspace(0.5, 80.0, 40)
_POWERS = np.geomspace(0.05, 1.5, 30)
_ALPHAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
LEXICON = Path(__file__).resolve().parent / "data" / "lexicon.json"
DEFAULT = "default"  # "use the configured embedding model / the shipped lexicon"
EMBEDDING_WEIGHT = 1.5  # chosen on a split of BANKING77's training part (bench/assistant.py)
LAYER_WEIGHT = 1.0  # the earlier layers' pooled outputs (emb.POOLED_LAYERS[1:]); 5-fold CV
# The knowledge-base engine's encoder layers: the sentence embedding alone. On the English
# tuning questions (data/tuning.en.csv) the earlier layers changed top-1 by at most 2 of 309
# (last layer 0.851, layers 6+5 0.858, 6–3 0.851) and lowered the answered-right share on the
# English evaluation set (web/SMS 0.797 → 0.788); see docs/assistant.md.
KB_LAYERS = (-1,)


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
    """A linear intent classifier with a calibrated softmax confidence.

    ``embeddings`` (a model directory, see :mod:`rongshu.assistant.embeddings`) adds the
    encoder's view of the text (:meth:`~embeddings.SentenceEncoder.encode_layers` over
    ``layers``): the sentence embedding scaled by ``embedding_weight`` and the earlier layers'
    pooled outputs scaled by ``layer_weight``, to the TF-IDF features; ``None`` keeps
    TF-IDF only. Only the directory is stored (and pickled), the encoder is loaded lazily.
    Callers that already hold the embeddings pass them as ``vectors`` (one row per text).
    """

    def __init__(
        self,
        *,
        c: float = 0.5,
        temperature: float = 10.0,
        embeddings: str | Path | None = None,
        embedding_weight: float = EMBEDDING_WEIGHT,
        layer_weight: float = LAYER_WEIGHT,
        layers: Sequence[int] = emb.POOLED_LAYERS,
    ) -> None:
        self.c = c
        self.temperature = temperature
        self.embeddings = str(embeddings) if embeddings is not None else None
        self.embedding_weight = embedding_weight
        self.layer_weight = layer_weight
        self.layers = tuple(layers)
        self.features = features()
        self.svm = LinearSVC(C=c, random_state=0)  # reproducible training (dual CD shuffles)
        self.classes: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray | None:
        """Embeddings of ``texts`` with this classifier's model (``None`` without one)."""
        if self.embeddings is None:
            return None
        encoder = emb.get_encoder(self.embeddings)
        return None if encoder is None else encoder.encode_layers(list(texts), self.layers)

    def _matrix(self, texts: Sequence[str], vectors: np.ndarray | None, fit: bool) -> Any:
        normalised = [normalise(t) for t in texts]
        tfidf = (
            self.features.fit_transform(normalised) if fit else self.features.transform(normalised)
        )
        if self.embeddings is None:
            return tfidf
        if vectors is None:
            vectors = self.embed(texts)
        if vectors is None:  # the model went missing: zeros keep the shapes (TF-IDF only)
            encoder_dim = getattr(self, "_dimension", 0)
            vectors = np.zeros((len(texts), encoder_dim), dtype=np.float32)
        self._dimension = vectors.shape[1]
        scale = np.full(vectors.shape[1], self.layer_weight)
        scale[: vectors.shape[1] // max(len(self.layers), 1)] = self.embedding_weight
        dense = sparse.csr_matrix(np.asarray(vectors, dtype=np.float64) * scale)
        return sparse.hstack([tfidf, dense], format="csr")

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], vectors: np.ndarray | None = None
    ) -> IntentClassifier:
        matrix = self._matrix(texts, vectors, fit=True)
        self.svm.fit(matrix, list(labels))
        self.classes = [str(c) for c in self.svm.classes_]
        return self

    def decision(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        matrix = self._matrix(texts, vectors, fit=False)
        scores: np.ndarray = np.asarray(self.svm.decision_function(matrix), dtype=float)
        if scores.ndim == 1:  # two classes: sklearn returns one column
            scores = np.column_stack([-scores, scores])
        return scores

    def proba_from_decision(self, scores: np.ndarray) -> np.ndarray:
        return _softmax(scores * self.temperature)

    def predict_proba(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        return self.proba_from_decision(self.decision(texts, vectors))

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[str]:
        scores = self.decision(texts, vectors)
        return [self.classes[i] for i in scores.argmax(axis=1)]

    def calibrate(
        self, texts: Sequence[str], labels: Sequence[str], vectors: np.ndarray | None = None
    ) -> float:
        """Fit the softmax temperature on held-out examples (minimum log-loss); returns it."""
        scores = self.decision(texts, vectors)
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


# Bumped when a saved engine of an older rongshu cannot be used by this code (2: embeddings,
# 3: mixing weight and threshold per language, 4: pooled outputs of several encoder layers).
MODEL_FORMAT = 4
LANGUAGES = ("zh-hans", "en")


@dataclass
class KbEngine:
    """A trained model of the knowledge base.

    Two classifiers factor a question into *what it is about* (the topic: a product or flow,
    plus :data:`OOS_LABEL` for questions outside the bank) and *what is asked* (the aspect:
    fees, limits, how to apply …), so an aspect learnt on one product transfers to the others.
    Their product over the entries that exist is mixed with a BM25 retrieval distribution.
    ``alphas`` (the classifiers' share of the mix) and ``thresholds`` are per language of the
    message; ``alpha`` and ``threshold`` serve a language without its own setting.
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
    alphas: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    trained_samples: int = 0
    train_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    embeddings: str | None = None  # the sentence-embedding model directory, if one was used
    embed_chinese: bool = False  # all-MiniLM-L6-v2 is English-only: Chinese gets zero vectors
    layers: tuple[int, ...] = emb.POOLED_LAYERS  # the encoder layers the classifiers see
    model_format: int = MODEL_FORMAT

    def __post_init__(self) -> None:
        self.labels = [*sorted(self.records), OOS_LABEL]
        topic_index = {c: i for i, c in enumerate(self.topics.classes)}
        aspect_index = {c: i for i, c in enumerate(self.aspects.classes)}
        pairs = [split_key(k) for k in self.labels[:-1]]
        self._topic_cols = np.array([topic_index.get(t, -1) for t, _ in pairs])
        self._aspect_cols = np.array([aspect_index.get(a, -1) for _, a in pairs])
        self._oos_col = topic_index.get(OOS_LABEL, -1)
        self._bm25_cols = np.array([self.retriever._key_index.get(k, -1) for k in self.labels[:-1]])

    def vectors(self, texts: Sequence[str]) -> np.ndarray | None:
        """The sentence embeddings both classifiers use (``None`` without a model)."""
        if self.embeddings is None:
            return None
        return embed_texts(
            emb.get_encoder(self.embeddings), texts, self.embed_chinese, layers=self.layers
        )

    def classifier_distribution(
        self, texts: Sequence[str], vectors: np.ndarray | None = None
    ) -> np.ndarray:
        """P(entry) from the two classifiers, one row per text over ``self.labels``."""
        if vectors is None:
            vectors = self.vectors(texts)
        pt = self.topics.predict_proba(texts, vectors)
        pa = self.aspects.predict_proba(texts, vectors)
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

    def alpha_for(self, language: str) -> float:
        return self.alphas.get(language, self.alpha)

    def threshold_for(self, language: str) -> float:
        """The confidence an answer needs for a message in ``language`` (``zh-hans``/``en``)."""
        return self.thresholds.get(language, self.threshold)

    def is_confident(self, text: str, top: Ranked) -> bool:
        """Whether ``top`` (the first of :meth:`rank`) is answered rather than clarified."""
        return top.key != OOS_LABEL and top.probability >= self.threshold_for(detect_language(text))

    def distribution(self, text: str) -> np.ndarray:
        """Probability over ``self.labels`` (the entries, then :data:`OOS_LABEL`), mixed with
        the weight of the message's language."""
        alpha = self.alpha_for(detect_language(text))
        return self.mix(self.classifier_distribution([text])[0], text, alpha)

    def rank(self, text: str, k: int = 3) -> list[Ranked]:
        """The top ``k`` labels (may include :data:`OOS_LABEL`), most likely first."""
        dist = self.distribution(text)
        order = np.argsort(-dist, kind="stable")[:k]
        return [Ranked(self.labels[i], float(dist[i])) for i in order]


# ------------------------------------------------------------------ embeddings
def embed_texts(
    encoder: emb.SentenceEncoder | None,
    texts: Sequence[str],
    embed_chinese: bool = False,
    cache_dir: Path | None = None,
    *,
    layers: Sequence[int] = emb.POOLED_LAYERS,
) -> np.ndarray:
    """The encoder's view of ``texts`` (pooled ``layers``, see
    :meth:`~embeddings.SentenceEncoder.encode_layers`); rows of Chinese texts are zero unless
    ``embed_chinese`` (all-MiniLM-L6-v2 is an English model). Zeros everywhere when the model
    is missing."""
    dimension = (encoder.dimension if encoder is not None else 384) * len(layers)
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    if encoder is None:
        return out
    rows = [i for i, t in enumerate(texts) if embed_chinese or not has_chinese(t)]
    if rows:
        wanted = [texts[i] for i in rows]
        out[rows] = (
            emb.cached_encode(encoder, wanted, cache_dir, layers)
            if cache_dir
            else encoder.encode_layers(wanted, layers)
        )
    return out


# ------------------------------------------------------------------ lexicon
@dataclass(frozen=True)
class Lexicon:
    """Cue words per topic and per aspect and language (``data/lexicon.json``)."""

    topics: Mapping[str, Mapping[str, Sequence[str]]]
    aspects: Mapping[str, Mapping[str, Sequence[str]]]
    out_of_scope: Mapping[str, Sequence[str]] = field(default_factory=dict)


def load_lexicon(path: Path | None = None) -> Lexicon:
    data = json.loads((path or LEXICON).read_text(encoding="utf-8"))
    return Lexicon(
        topics=data.get("topics", {}),
        aspects=data.get("aspects", {}),
        out_of_scope=data.get("out_of_scope", {}),
    )


def _join(language: str, left: str, right: str) -> str:
    return f"{left}{right}" if language == "zh-hans" else f"{left} {right}"


def lexicon_samples(
    records: Sequence[FaqRecord], lexicon: Lexicon, *, per_entry: int = 3, seed: int = 0
) -> tuple[Samples, Samples, Samples]:
    """Extra training examples from the lexicon: (topic cues, aspect cues, crossed).

    Topic cues are labelled with their topic, aspect cues with their aspect (only topics and
    aspects that some entry has); *crossed* pairs ``per_entry`` random topic cues with aspect
    cues for each entry and language whose aspect has cues, labelled with the entry's key.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not security
    pairs = [split_key(r.key) for r in records]
    topics = {t for t, _ in pairs}
    aspects = {a for _, a in pairs}
    topic_cues, aspect_cues, crossed = Samples([], []), Samples([], []), Samples([], [])
    for topic in sorted(topics & set(lexicon.topics)):
        for cues in lexicon.topics[topic].values():
            topic_cues.texts.extend(cues)
            topic_cues.labels.extend([topic] * len(cues))
    for aspect in sorted(aspects & set(lexicon.aspects)):
        for cues in lexicon.aspects[aspect].values():
            aspect_cues.texts.extend(cues)
            aspect_cues.labels.extend([aspect] * len(cues))
    for record, (topic, aspect) in zip(records, pairs, strict=True):
        for language in ("zh-hans", "en"):
            names = list(lexicon.topics.get(topic, {}).get(language, ()))
            asks = list(lexicon.aspects.get(aspect, {}).get(language, ()))
            if not names or not asks:
                continue
            for _ in range(per_entry):
                crossed.texts.append(_join(language, rng.choice(names), rng.choice(asks)))
                crossed.labels.append(record.key)
    return topic_cues, aspect_cues, crossed


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
    """Hold out the last example of each (label, language) with ≥ 3 examples, and every
    other out-of-scope example."""
    groups: dict[tuple[str, bool], list[int]] = {}
    for i, (text, label) in enumerate(zip(samples.texts, samples.labels, strict=True)):
        groups.setdefault((label, has_chinese(text)), []).append(i)
    held = {idx[-1] for (label, _), idx in groups.items() if len(idx) >= 3 and label != OOS_LABEL}
    # Every other out-of-scope example: the threshold needs enough of them to be tuned.
    held |= {i for (label, _), idx in groups.items() if label == OOS_LABEL for i in idx[1::2]}
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


def resolve_embeddings(embeddings: str | Path | None) -> str | None:
    """:data:`DEFAULT` → the configured model directory (or ``None``); else as given."""
    if embeddings == DEFAULT:
        configured = emb.default_model_dir()
        return str(configured) if configured is not None else None
    return str(embeddings) if embeddings is not None else None


@dataclass
class _Extra:
    """Lexicon examples and the embedding of every text, shared by the probe and final fits."""

    topic_cues: Samples
    aspect_cues: Samples
    crossed: Samples
    embeddings: str | None
    embed_chinese: bool
    vectors: dict[str, np.ndarray]
    layers: tuple[int, ...] = emb.POOLED_LAYERS

    def lookup(self, texts: Sequence[str]) -> np.ndarray | None:
        if self.embeddings is None:
            return None
        return np.vstack([self.vectors[t] for t in texts]) if texts else None


def train_kb_engine(
    records: Sequence[FaqRecord],
    out_of_scope: Sequence[str] = (),
    *,
    hold_out_last: bool = False,
    c: float = 0.5,
    embeddings: str | Path | None = DEFAULT,
    lexicon: Lexicon | str | None = DEFAULT,
    cache_dir: Path | None = None,
    embed_chinese: bool = False,
    tuning: Samples | None = None,
    layers: Sequence[int] = KB_LAYERS,
) -> tuple[KbEngine, Samples]:
    """Train an engine on ``records`` (+ out-of-scope examples as one extra class).

    ``embeddings``: a sentence-embedding model directory, ``None`` for TF-IDF only, or
    :data:`DEFAULT` (the configured model, see :func:`embeddings.default_model_dir`).
    ``lexicon``: extra cue examples (:func:`lexicon_samples`); :data:`DEFAULT` is the shipped
    ``data/lexicon.json``, ``None`` none. ``cache_dir`` keeps the training embeddings on disk.
    ``tuning``: hand-written questions labelled with their entry, never trained on; a language
    that has some tunes its mixing weight and threshold on them (plus its held-out
    out-of-scope examples) instead of on its held-out paraphrases.
    ``layers``: the encoder layers the classifiers see (:meth:`embeddings.SentenceEncoder.
    encode_layers`; :data:`KB_LAYERS`).
    Returns the engine and the held-out paraphrases (empty unless ``hold_out_last``).
    """
    started = time.perf_counter()
    train, held = training_samples(records, hold_out_last=hold_out_last)
    lex = load_lexicon() if lexicon == DEFAULT else lexicon
    oos = list(out_of_scope)
    if isinstance(lex, Lexicon):
        oos += [t for texts in lex.out_of_scope.values() for t in texts if t not in oos]
    train.texts.extend(oos)
    train.labels.extend([OOS_LABEL] * len(oos))
    fit, cal = _split_for_calibration(train)
    by_key = {r.key: r for r in records}
    model = resolve_embeddings(embeddings)
    empty = Samples([], [])
    topic_cues, aspect_cues, crossed = (
        lexicon_samples(records, lex) if isinstance(lex, Lexicon) else (empty, empty, empty)
    )
    tuning = tuning or Samples([], [])
    kept = [i for i, key in enumerate(tuning.labels) if key in by_key]  # inactive entries: out
    tuning = Samples([tuning.texts[i] for i in kept], [tuning.labels[i] for i in kept])
    vectors: dict[str, np.ndarray] = {}
    if model is not None:
        unique = sorted(
            {*train.texts, *topic_cues.texts, *aspect_cues.texts, *crossed.texts, *tuning.texts}
        )
        matrix = embed_texts(
            emb.get_encoder(model), unique, embed_chinese, cache_dir, layers=tuple(layers)
        )
        vectors = dict(zip(unique, matrix, strict=True))
    extra = _Extra(topic_cues, aspect_cues, crossed, model, embed_chinese, vectors, tuple(layers))

    # 1. Fit on part of the data, tune temperatures, mixing weight and threshold on the rest.
    probe = _fit_engine("probe", by_key, fit, c, extra)
    cal_vectors = extra.lookup(cal.texts)
    probe.topics.calibrate(cal.texts, [_topic_of(label) for label in cal.labels], cal_vectors)
    in_scope = [i for i, label in enumerate(cal.labels) if label != OOS_LABEL]
    probe.aspects.calibrate(
        [cal.texts[i] for i in in_scope],
        [split_key(cal.labels[i])[1] for i in in_scope],
        cal_vectors[in_scope] if cal_vectors is not None else None,
    )
    columns = np.array([probe.labels.index(label) for label in cal.labels])
    best_loss = float("inf")
    power_fit = 1.0
    for power in _POWERS:
        probe.power = float(power)
        proba = probe.classifier_distribution(cal.texts, cal_vectors)[
            np.arange(len(columns)), columns
        ]
        loss = float(-np.log(np.clip(proba, 1e-12, 1.0)).mean())
        if loss < best_loss:
            best_loss, power_fit = loss, float(power)
    probe.power = power_fit
    settings = _tune_mixing(probe, cal, cal_vectors, tuning, extra.lookup(tuning.texts))

    # 2. Refit on everything with the tuned settings.
    engine = _fit_engine("", by_key, train, c, extra)
    engine.topics.temperature = probe.topics.temperature
    engine.aspects.temperature = probe.aspects.temperature
    digest = hashlib.sha256(
        json.dumps(
            [train.texts, train.labels, crossed.texts, model, tuning.texts, tuning.labels],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()[:10]
    engine.version = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{digest}"
    engine.power = power_fit
    engine.alpha, engine.threshold, engine.calibration_accuracy = settings.pop("")
    engine.alphas = {language: alpha for language, (alpha, _, _) in settings.items()}
    engine.thresholds = {language: t for language, (_, t, _) in settings.items()}
    engine.extra["calibration_accuracy"] = {lang: acc for lang, (_, _, acc) in settings.items()}
    engine.trained_samples = len(train.texts) + len(crossed.texts)
    engine.train_seconds = time.perf_counter() - started
    return engine, held


def _tune_mixing(
    probe: KbEngine,
    cal: Samples,
    cal_vectors: np.ndarray | None,
    tuning: Samples,
    tuning_vectors: np.ndarray | None,
) -> dict[str, tuple[float, float, float]]:
    """(alpha, threshold, accuracy) per language, and under ``""`` for all messages together.

    The mixing weight and threshold maximise :func:`_utility` (ties: the higher accuracy) on
    the language's in-scope examples — its ``tuning`` questions when it has some, else its
    held-out calibration examples — and its held-out out-of-scope examples. English held-out
    paraphrases come from templates and are answered far more confidently than customers'
    own wording, which is why English has hand-written tuning questions.
    """
    texts = [*cal.texts, *tuning.texts]
    truth = np.array([*cal.labels, *tuning.labels])
    source = np.array([False] * len(cal.texts) + [True] * len(tuning.texts))
    parts = [v for v in (cal_vectors, tuning_vectors) if v is not None]
    vectors = np.vstack(parts) if probe.embeddings is not None and parts else None
    clf = probe.classifier_distribution(texts, vectors) if texts else np.zeros((0, 0))
    language = np.array([detect_language(t) for t in texts])
    is_oos = truth == OOS_LABEL
    scored: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for alpha in _ALPHAS:
        mixed = np.vstack([probe.mix(clf[i], text, alpha) for i, text in enumerate(texts)])
        predicted = np.array([probe.labels[i] for i in mixed.argmax(axis=1)])
        confidence = np.where(predicted == OOS_LABEL, 0.0, mixed.max(axis=1))
        scored[alpha] = (predicted == truth, confidence)

    def tune(rows: np.ndarray) -> tuple[float, float, float]:
        best: tuple[float, float, float, float] | None = None  # (utility, accuracy, alpha, t)
        for alpha, (correct_all, confidence_all) in scored.items():
            correct, confidence, oos = correct_all[rows], confidence_all[rows], is_oos[rows]
            accuracy = float(correct[~oos].mean()) if (~oos).any() else 0.0
            for t in np.linspace(0.05, 0.9, 35):
                candidate = (_utility(correct, oos, confidence, float(t)), accuracy, alpha, t)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
        assert best is not None
        return float(best[2]), float(best[3]), float(best[1])

    out = {"": tune(~source)}
    for lang in LANGUAGES:
        own = language == lang
        with_tuning = own & source & ~is_oos
        in_scope = with_tuning if with_tuning.any() else own & ~source & ~is_oos
        if in_scope.any():
            out[lang] = tune(in_scope | (own & ~source & is_oos))
    return out


def _topic_of(label: str) -> str:
    return OOS_LABEL if label == OOS_LABEL else split_key(label)[0]


def _fit_engine(
    version: str, records: dict[str, FaqRecord], samples: Samples, c: float, extra: _Extra
) -> KbEngine:
    topic_texts = [*samples.texts, *extra.topic_cues.texts, *extra.crossed.texts]
    topic_labels = [
        *(_topic_of(x) for x in samples.labels),
        *extra.topic_cues.labels,
        *(_topic_of(x) for x in extra.crossed.labels),
    ]
    pairs = [(t, x) for t, x in zip(samples.texts, samples.labels, strict=True) if x != OOS_LABEL]
    aspect_texts = [*(t for t, _ in pairs), *extra.aspect_cues.texts, *extra.crossed.texts]
    aspect_labels = [
        *(split_key(x)[1] for _, x in pairs),
        *extra.aspect_cues.labels,
        *(split_key(x)[1] for x in extra.crossed.labels),
    ]
    topics = IntentClassifier(c=c, embeddings=extra.embeddings, layers=extra.layers).fit(
        topic_texts, topic_labels, extra.lookup(topic_texts)
    )
    aspects = IntentClassifier(c=c, embeddings=extra.embeddings, layers=extra.layers).fit(
        aspect_texts, aspect_labels, extra.lookup(aspect_texts)
    )
    return KbEngine(
        version=version,
        records=records,
        topics=topics,
        aspects=aspects,
        retriever=FaqRetriever(_documents(samples)),
        embeddings=extra.embeddings,
        embed_chinese=extra.embed_chinese,
        layers=extra.layers,
    )
