"""Benchmark of the assistant 小微's understanding: ``bench/assistant.py [--quick]``.

* BANKING77 intent accuracy on a fixed stratified 20 % hold-out (seed 0) of the train split
  (``data/banking77``), for our classifier and, in the same run, the reference baseline
  (TF-IDF word 1–2 + char_wb 2–5 + LinearSVC, sklearn defaults) and the ratio; the full run
  adds 5-fold stratified cross-validation of both.
* FAQ top-1 accuracy on held-out paraphrases of the shipped knowledge base (the last
  paraphrase of every entry and language is never trained on), for zh and en, for the full
  engine and for BM25 alone; out-of-scope rejection on held-out out-of-scope questions.
* Latency per message (engine only, no database): p50 / p95 / p99.
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

from rongshu.assistant.engine import OOS_LABEL, IntentClassifier, train_kb_engine  # noqa: E402
from rongshu.assistant.services import read_faq_set  # noqa: E402
from rongshu.assistant.text import has_chinese  # noqa: E402

BANKING77 = h.ROOT / "data" / "banking77" / "train.csv"


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


def accuracy(
    model: object, xtr: list[str], ytr: list[str], xte: list[str], yte: list[str]
) -> float:
    model.fit(xtr, ytr)  # type: ignore[attr-defined]
    predicted = model.predict(xte)  # type: ignore[attr-defined]
    return float(np.mean(np.array(predicted) == np.array(yte)))


def banking77(metrics: dict[str, object], quick: bool) -> None:
    with BANKING77.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    labels = [r["category"] for r in rows]
    xtr, xte, ytr, yte = train_test_split(
        texts, labels, test_size=0.2, stratify=labels, random_state=0
    )
    started = time.perf_counter()
    ours = accuracy(IntentClassifier(), xtr, ytr, xte, yte)
    metrics["banking77_train_s"] = round(time.perf_counter() - started, 2)
    base = accuracy(baseline(), xtr, ytr, xte, yte)
    metrics["banking77_val_accuracy"] = round(ours, 4)
    metrics["banking77_baseline_val_accuracy"] = round(base, 4)
    metrics["banking77_ratio"] = round(ours / base, 4)
    metrics["banking77_val_size"] = len(xte)
    if quick:
        return
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    ours_cv, base_cv = [], []
    x, y = np.array(texts, dtype=object), np.array(labels, dtype=object)
    for train_idx, test_idx in folds.split(x, y):
        args = (list(x[train_idx]), list(y[train_idx]), list(x[test_idx]), list(y[test_idx]))
        ours_cv.append(accuracy(IntentClassifier(), *args))
        base_cv.append(accuracy(baseline(), *args))
    metrics["banking77_cv5_accuracy"] = round(float(np.mean(ours_cv)), 4)
    metrics["banking77_cv5_std"] = round(float(np.std(ours_cv)), 4)
    metrics["banking77_baseline_cv5_accuracy"] = round(float(np.mean(base_cv)), 4)
    metrics["banking77_cv5_ratio"] = round(float(np.mean(ours_cv) / np.mean(base_cv)), 4)


def knowledge_base(metrics: dict[str, object]) -> None:
    records, oos = read_faq_set()
    tune = oos["zh-hans"][::2] + oos["en"][::2]
    unseen_oos = oos["zh-hans"][1::2] + oos["en"][1::2]
    started = time.perf_counter()
    engine, held = train_kb_engine(records, tune, hold_out_last=True)
    metrics["kb_entries"] = len(records)
    metrics["kb_train_s"] = round(time.perf_counter() - started, 2)
    latencies: list[float] = []
    for language, flag in (("zh", True), ("en", False)):
        pairs = [
            (t, k) for t, k in zip(held.texts, held.labels, strict=True) if has_chinese(t) == flag
        ]
        top1 = bm25 = answered = answered_right = 0
        for text, key in pairs:
            t0 = time.perf_counter()
            best = engine.rank(text, k=3)[0]
            latencies.append(time.perf_counter() - t0)
            top1 += best.key == key
            retrieved = engine.retriever.top(text, 1)
            bm25 += bool(retrieved) and retrieved[0][0] == key
            if best.key != OOS_LABEL and best.probability >= engine.threshold:
                answered += 1
                answered_right += best.key == key
        metrics[f"{language}_kb_accuracy"] = round(top1 / len(pairs), 4)
        metrics[f"{language}_kb_bm25_only_accuracy"] = round(bm25 / len(pairs), 4)
        metrics[f"{language}_kb_answered_rate"] = round(answered / len(pairs), 4)
        metrics[f"{language}_kb_answered_precision"] = round(answered_right / max(answered, 1), 4)
        metrics[f"{language}_kb_heldout_size"] = len(pairs)
    rejected = 0
    for text in unseen_oos:
        best = engine.rank(text, k=1)[0]
        rejected += best.key == OOS_LABEL or best.probability < engine.threshold
    metrics["oos_rejection_rate"] = round(rejected / len(unseen_oos), 4)
    metrics["oos_heldout_size"] = len(unseen_oos)
    ms = [s * 1000 for s in latencies]
    metrics["p50_ms"] = round(h.percentile(ms, 50), 2)
    metrics["p95_ms"] = round(h.percentile(ms, 95), 2)
    metrics["p99_ms"] = round(h.percentile(ms, 99), 2)


def main() -> None:
    args = h.parse_args(__doc__ or "assistant benchmark")
    metrics: dict[str, object] = {}
    knowledge_base(metrics)
    banking77(metrics, args.quick)
    h.report("assistant", metrics, quick=args.quick)


if __name__ == "__main__":
    main()
