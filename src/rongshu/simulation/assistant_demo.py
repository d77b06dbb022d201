"""Demo step for the assistant 小微: the shipped FAQ set and, if none is saved, a model."""

from __future__ import annotations

from rongshu.assistant.services import do_load_faq_set, do_train_model, find_model_version


def load_assistant_demo() -> str:
    loaded = do_load_faq_set()
    summary = f"FAQ set {loaded.created} new, {loaded.updated} updated, {loaded.unchanged} same"
    version = find_model_version()
    if version is None:
        result = do_train_model()
        return f"{summary}; trained model {result.version} in {result.seconds:.1f} s"
    return f"{summary}; model {version} already trained"
