"""Trained engines on disk: ``DATA_DIR/assistant/models/kb-<version>.joblib`` + ``CURRENT``.

Saving writes the model file first and then swaps the ``CURRENT`` pointer atomically, so a
reader never sees half a model; old versions stay until an operator removes them. Model files
are pickles: only load files this installation wrote (the directory is the operator's).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import joblib
from django.conf import settings

from rongshu.assistant.engine import MODEL_FORMAT, KbEngine

logger = logging.getLogger(__name__)

_cache: dict[str, tuple[float, KbEngine]] = {}
_lock = threading.Lock()


def model_dir() -> Path:
    return Path(settings.DATA_DIR) / "assistant" / "models"


def embedding_cache_dir() -> Path:
    """Where training sentence embeddings are cached (``.npy`` per model and text set)."""
    return Path(settings.DATA_DIR) / "cache" / "assistant-embeddings"


def save_engine(engine: KbEngine) -> Path:
    folder = model_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"kb-{engine.version}.joblib"
    joblib.dump(engine, path, compress=3)
    pointer = folder / "CURRENT"
    tmp = folder / f".CURRENT.{os.getpid()}"
    tmp.write_text(path.name + "\n", encoding="utf-8")
    tmp.replace(pointer)
    return path


def current_model_path() -> Path | None:
    pointer = model_dir() / "CURRENT"
    if not pointer.is_file():
        return None
    path = model_dir() / pointer.read_text(encoding="utf-8").strip()
    return path if path.is_file() else None


def find_current_engine() -> KbEngine | None:
    """The engine ``CURRENT`` points at (cached per process until the pointer changes)."""
    path = current_model_path()
    if path is None:
        return None
    mtime = path.stat().st_mtime
    key = str(path)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        engine = joblib.load(path)
        if not isinstance(engine, KbEngine):
            raise TypeError(f"{path} does not hold a KbEngine")
        # Read from the instance: a pickle from before the field existed would otherwise
        # see the class default.
        if vars(engine).get("model_format") != MODEL_FORMAT:
            logger.warning("assistant model %s is from an older rongshu: retrain it", path)
            return None
        _cache.clear()
        _cache[key] = (mtime, engine)
        return engine
