"""Deterministic ids and random streams.

Ids are UUID-shaped strings (version 8, "custom") whose 122 free bits come from a splitmix64
hash of ``(seed, tag, index)``: the same customer, account or transaction always gets the same
id, in the lake, in the OLTP database and in the source files.
"""

from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa

BLOCK = 1024  # customers per generation block; part of the generator's definition
_M64 = (1 << 64) - 1
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = (8, 13, 18, 23)
_POS = np.array([i for i in range(36) if i not in _DASHES], dtype=np.int64)

TAGS = {
    "customer": 1,
    "company": 2,
    "account": 3,
    "txn": 4,
    "merchant": 5,
    "event": 6,
    "people": 11,
    "companies": 12,
    "money": 13,
    "sources": 14,
    "typology": 15,
    "lives": 16,
}


def rng(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """A PCG64 stream for ``(seed, purpose, *keys)``; independent of every other stream."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, TAGS[purpose], *keys]))
    )


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over a uint64 array (wrapping arithmetic)."""
    x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)).astype(np.uint64)
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)).astype(np.uint64)
    out: np.ndarray = (x ^ (x >> np.uint64(31))).astype(np.uint64)
    return out


def _words(seed: int, tag: str, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    base = np.uint64((seed * 1_000_003 + TAGS[tag] * 7_919) & _M64)
    idx = np.asarray(index, dtype=np.uint64)
    with np.errstate(over="ignore"):
        hi = _mix(idx ^ _mix(np.array([base], dtype=np.uint64))[0])
        lo = _mix(hi ^ np.uint64(0xD1B54A32D192ED03))
    hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x8000)  # version 8
    lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)  # RFC variant
    return hi, lo


def id_array(seed: int, tag: str, index: np.ndarray) -> pa.StringArray:
    """Vectorised ids as a pyarrow string array (36-character UUID text)."""
    hi, lo = _words(seed, tag, index)
    n = len(hi)
    raw = np.empty((n, 2), dtype=">u8")
    raw[:, 0] = hi
    raw[:, 1] = lo
    b = raw.view(np.uint8).reshape(n, 16)
    nib = np.empty((n, 32), dtype=np.uint8)
    nib[:, 0::2] = b >> 4
    nib[:, 1::2] = b & 0x0F
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _POS] = _HEX[nib]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.tobytes()))


def id_array_tagged(seed: int, tags: np.ndarray, index: np.ndarray) -> pa.StringArray:
    """Like :func:`id_array` with one tag per row (0 = null)."""
    out = pa.array(np.full(len(index), None, dtype=object), type=pa.string())
    pieces = []
    for name, number in TAGS.items():
        mask = tags == number
        if mask.any():
            pieces.append((mask, id_array(seed, name, index[mask])))
    if not pieces:
        return out
    import pyarrow.compute as pc

    positions = np.full(len(index), -1, dtype=np.int64)
    chunks = []
    offset = 0
    for mask, arr in pieces:
        positions[mask] = np.arange(offset, offset + len(arr))
        offset += len(arr)
        chunks.append(arr)
    combined = pa.concat_arrays(chunks)
    take = pa.array(np.where(positions >= 0, positions, 0), type=pa.int64())
    result = pc.take(combined, take)
    valid = pa.array(positions >= 0)
    return pc.if_else(valid, result, out)


def one_id(seed: int, tag: str, index: int) -> uuid.UUID:
    """The id of one entity, equal to the matching element of :func:`id_array`."""
    hi, lo = _words(seed, tag, np.array([index], dtype=np.uint64))
    return uuid.UUID(int=(int(hi[0]) << 64) | int(lo[0]))
