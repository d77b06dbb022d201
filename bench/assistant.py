"""Benchmark of the assistant 小微's understanding: ``bench/assistant.py [--quick]``.

* BANKING77 intent accuracy on a fixed stratified 20 % hold-out (seed 0) of the train split
  (``data/banking77``; the official test split is not in the repository): our classifier with
  the sentence-embedding backend (TF-IDF + all-MiniLM-L6-v2's sentence embedding and the pooled
  outputs of its layers 3–5, when the model is installed), the same classifier on TF-IDF only,
  and the reference baseline (TF-IDF word 1–2 + char_wb 2–5 + LinearSVC, sklearn defaults), all
  in the same run, with the ratios; the full run adds 5-fold stratified cross-validation.
* The shipped knowledge base against hand-written customer questions never used in training
  (``data/assistant``: ``zh_eval.csv`` ≥ 500 Chinese, ``en_eval.csv`` ≥ 100 English; plus
  ``zh_dev.csv``, the Chinese set used during development): top-1 accuracy, and per channel
  (web, SMS) the share of questions *answered with the right entry's answer* — a clarifying
  question or an out-of-scope reply counts as wrong. Same decision rule as
  ``services.reply_with`` (top entry at or above the tuned threshold), without the database.
* The full run adds the old held-out-paraphrase figures (the last paraphrase of every entry
  and language never trained on) and the English knowledge base on TF-IDF only.
* Latency per message (engine incl. embedding, no database): p50 / p95 / p99 wall time and
  CPU time (``time.process_time``: what the message costs without other processes' load).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

h.setup_django()

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.pipeline import FeatureUnion, make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from rongshu.assistant import embeddings as emb  # noqa: E402
from rongshu.assistant import store  # noqa: E402
from rongshu.assistant.engine import (  # noqa: E402
    IntentClassifier,
    KbEngine,
    train_kb_engine,
)
from rongshu.assistant.services import read_faq_set, read_tuning_set  # noqa: E402
from rongshu.assistant.text import has_chinese  # noqa: E402

BANKING77 = h.ROOT / "data" / "banking77" / "train.csv"
EVAL_DIR = h.ROOT / "data" / "assistant"
CACHE = store.embedding_cache_dir()


def baseline() -> object:
    return make_pipeline(
        FeatureUnion(
            [
                ("w", TfidfVectorizer(ngram_range=(1, 2))),
                ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))),
            ]
        ),
        LinearSVC(),
    )


def _accuracy(predicted: list[str], truth: list[str]) -> float:
    return float(np.mean(np.array(predicted) == np.array(truth)))


def banking77(metrics: dict[str, object], quick: bool) -> None:
    with BANKING77.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    labels = [r["category"] for r in rows]
    model_dir = emb.default_model_dir()
    encoder = emb.get_encoder(model_dir) if model_dir else None
    metrics["embeddings_model"] = model_dir.parent.name if model_dir else "off"
    vectors = None
    if encoder is not None:
        started = time.perf_counter()
        vectors = emb.cached_encode(encoder, texts, CACHE, emb.POOLED_LAYERS)
        metrics["banking77_encode_s"] = round(time.perf_counter() - started, 2)
    index = np.arange(len(texts))
    tr, te = train_test_split(index, test_size=0.2, stratify=labels, random_state=0)

    def part(ids: np.ndarray) -> tuple[list[str], list[str], np.ndarray | None]:
        return (
            [texts[i] for i in ids],
            [labels[i] for i in ids],
            vectors[ids] if vectors is not None else None,
        )

    def ours(train: np.ndarray, test: np.ndarray, with_embeddings: bool) -> float:
        xtr, ytr, vtr = part(train)
        xte, yte, vte = part(test)
        if with_embeddings and model_dir is not None:
            model = IntentClassifier(embeddings=model_dir).fit(xtr, ytr, vtr)
            return _accuracy(model.predict(xte, vte), yte)
        return _accuracy(IntentClassifier().fit(xtr, ytr).predict(xte), yte)

    def base(train: np.ndarray, test: np.ndarray) -> float:
        model = baseline()
        model.fit([texts[i] for i in train], [labels[i] for i in train])  # type: ignore[attr-defined]
        return _accuracy(list(model.predict([texts[i] for i in test])), [labels[i] for i in test])  # type: ignore[attr-defined]

    started = time.perf_counter()
    with_emb = ours(tr, te, True)
    metrics["banking77_train_s"] = round(time.perf_counter() - started, 2)
    tfidf = ours(tr, te, False)
    reference = base(tr, te)
    metrics["banking77_val_accuracy"] = round(with_emb, 4)
    metrics["banking77_tfidf_val_accuracy"] = round(tfidf, 4)
    metrics["banking77_baseline_val_accuracy"] = round(reference, 4)
    metrics["banking77_ratio"] = round(with_emb / reference, 4)
    metrics["banking77_embedding_gain_ratio"] = round(with_emb / tfidf, 4)
    metrics["banking77_val_size"] = len(te)
    if quick:
        return
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    ours_cv, base_cv = [], []
    for train_idx, test_idx in folds.split(index, labels):
        ours_cv.append(ours(train_idx, test_idx, True))
        base_cv.append(base(train_idx, test_idx))
    metrics["banking77_cv5_accuracy"] = round(float(np.mean(ours_cv)), 4)
    metrics["banking77_cv5_std"] = round(float(np.std(ours_cv)), 4)
    metrics["banking77_baseline_cv5_accuracy"] = round(float(np.mean(base_cv)), 4)
    metrics["banking77_cv5_ratio"] = round(float(np.mean(ours_cv) / np.mean(base_cv)), 4)


def read_eval(name: str) -> list[tuple[str, str]]:
    with (EVAL_DIR / f"{name}.csv").open(encoding="utf-8") as handle:
        return [(r["text"], r["key"]) for r in csv.DictReader(handle)]


def _answer(engine: KbEngine, key: str, channel: str, language: str) -> str:
    record = engine.records[key]
    zh = language == "zh-hans"
    if channel == "sms":
        return record.answer_sms_zh if zh else record.answer_sms_en
    return record.answer_web_zh if zh else record.answer_web_en


def evaluate(
    engine: KbEngine,
    pairs: list[tuple[str, str]],
    language: str,
    prefix: str,
    metrics: dict[str, object],
    latencies: list[tuple[float, float]] | None = None,
) -> None:
    top1 = 0
    answered = {"web": 0, "sms": 0}
    replied = 0
    for text, key in pairs:
        t0, c0 = time.perf_counter(), time.process_time()
        best = engine.rank(text, k=3)[0]
        if latencies is not None:
            latencies.append((time.perf_counter() - t0, time.process_time() - c0))
        top1 += best.key == key
        confident = engine.is_confident(text, best)
        replied += confident
        for channel in answered:
            # Right only when the reply is the right entry's answer for this channel.
            if confident and _answer(engine, best.key, channel, language) == _answer(
                engine, key, channel, language
            ):
                answered[channel] += 1
    n = len(pairs)
    metrics[f"{prefix}_accuracy"] = round(top1 / n, 4)
    for channel, right in answered.items():
        metrics[f"{prefix}_accuracy_{channel}"] = round(right / n, 4)
    metrics[f"{prefix}_answered_rate"] = round(replied / n, 4)
    metrics[f"{prefix}_size"] = n


def knowledge_base(metrics: dict[str, object], quick: bool) -> None:
    records, oos = read_faq_set()
    tune = oos["zh-hans"][::2] + oos["en"][::2]
    unseen_oos = oos["zh-hans"][1::2] + oos["en"][1::2]
    started = time.perf_counter()
    tuning = read_tuning_set()
    engine, _ = train_kb_engine(records, tune, cache_dir=CACHE, tuning=tuning)
    metrics["kb_entries"] = len(records)
    metrics["kb_train_s"] = round(time.perf_counter() - started, 2)
    metrics["train_s"] = metrics["kb_train_s"]
    metrics["kb_embeddings"] = engine.embeddings is not None
    for language, short in (("zh-hans", "zh"), ("en", "en")):
        metrics[f"{short}_kb_alpha"] = engine.alpha_for(language)
        metrics[f"{short}_kb_threshold"] = round(engine.threshold_for(language), 4)
    metrics["en_kb_tuning_size"] = len(tuning.texts)
    engine.rank("warm up", k=1)  # load the encoder before timing
    latencies: list[tuple[float, float]] = []
    evaluate(engine, read_eval("zh_eval"), "zh-hans", "zh_kb", metrics, latencies)
    evaluate(engine, read_eval("en_eval"), "en", "en_kb", metrics, latencies)
    evaluate(engine, read_eval("zh_dev"), "zh-hans", "zh_kb_dev", metrics)
    rejected = 0
    for text in unseen_oos:
        best = engine.rank(text, k=1)[0]
        rejected += not engine.is_confident(text, best)
    metrics["oos_rejection_rate"] = round(rejected / len(unseen_oos), 4)
    metrics["oos_heldout_size"] = len(unseen_oos)
    wall = [w * 1000 for w, _ in latencies]
    cpu = [c * 1000 for _, c in latencies]
    english = [
        w * 1000 for (w, _), (_, is_en) in zip(latencies, _eval_texts(), strict=True) if is_en
    ]
    for pct in (50, 95, 99):
        metrics[f"p{pct}_ms"] = round(h.percentile(wall, pct), 2)
    for pct in (50, 99):
        metrics[f"p{pct}_cpu_ms"] = round(h.percentile(cpu, pct), 2)
    metrics["p99_en_ms"] = round(h.percentile(english, 99), 2)
    if quick:
        return
    # The old figures: held-out last paraphrases (template-like wording, optimistic).
    held_engine, held = train_kb_engine(
        records, tune, hold_out_last=True, cache_dir=CACHE, tuning=tuning
    )
    for language, flag in (("zh", True), ("en", False)):
        pairs = [
            (t, k) for t, k in zip(held.texts, held.labels, strict=True) if has_chinese(t) == flag
        ]
        right = sum(held_engine.rank(t, k=1)[0].key == k for t, k in pairs)
        metrics[f"{language}_kb_heldout_paraphrase_accuracy"] = round(right / len(pairs), 4)
    # English on TF-IDF only, to show what the embeddings add to the knowledge base.
    plain, _ = train_kb_engine(records, tune, embeddings=None, tuning=tuning)
    tfidf_metrics: dict[str, object] = {}
    evaluate(plain, read_eval("en_eval"), "en", "en_kb_tfidf", tfidf_metrics)
    evaluate(plain, read_eval("zh_eval"), "zh-hans", "zh_kb_tfidf", tfidf_metrics)
    metrics["en_kb_tfidf_accuracy"] = tfidf_metrics["en_kb_tfidf_accuracy"]
    metrics["zh_kb_tfidf_accuracy"] = tfidf_metrics["zh_kb_tfidf_accuracy"]


def _eval_texts() -> list[tuple[str, bool]]:
    """Which timed messages were English (the ones that run the encoder)."""
    out = [(t, False) for t, _ in read_eval("zh_eval")]
    return out + [(t, True) for t, _ in read_eval("en_eval")]


def main() -> None:
    args = h.parse_args(__doc__ or "assistant benchmark")
    metrics: dict[str, object] = {}
    knowledge_base(metrics, args.quick)
    banking77(metrics, args.quick)
    h.report("assistant", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
