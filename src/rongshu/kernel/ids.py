"""Public identifiers: time-ordered UUIDs (version 7), so insert keys stay index-friendly."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    """A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness."""
    value = uuid6.uuid7()
    return uuid.UUID(int=value.int)


def parse_id(text: str) -> uuid.UUID:
    """Parse a public id; raises :class:`~rongshu.kernel.errors.InvalidInput` on garbage."""
    from rongshu.kernel.errors import InvalidInput

    try:
        return uuid.UUID(text)
    except (ValueError, AttributeError, TypeError) as exc:
        raise InvalidInput(f"{text!r} is not a valid id.", code="invalid_id") from exc
