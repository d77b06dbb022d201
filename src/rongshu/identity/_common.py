"""Helpers shared by the identity modules (private to the domain)."""

from __future__ import annotations

import re
import secrets

from rongshu.identity.errors import InvalidPhone
from rongshu.kernel.pii import blind_index

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits; raises :class:`InvalidPhone` otherwise."""
    phone = re.sub(r"[\s-]", "", raw or "")
    for prefix in ("+86", "0086", "86"):
        if phone.startswith(prefix) and len(phone) == 11 + len(prefix):
            phone = phone[len(prefix) :]
    if not _MOBILE.match(phone):
        raise InvalidPhone()
    return phone


def digest(value: str, purpose: str) -> str:
    """Keyed SHA-256 of a high-entropy secret (tokens, codes, client secrets)."""
    return blind_index(value, purpose=purpose)


def new_secret(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)
