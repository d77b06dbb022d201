"""Personal data helpers: masking by role and field-level encryption with key rotation.

Masking follows the usual Chinese banking display rules: resident ID ``1101**********002X``
(first 4, last 4), mobile ``138****5678``, name ``张*`` / ``欧阳**`` keeps the surname, card and
account numbers keep the first 6 and last 4. Which roles see a kind of value in clear is one
table (:data:`CLEAR_FOR_ROLES`), so every channel masks the same way.

Encryption uses Fernet (AES-128-CBC + HMAC-SHA256) through ``MultiFernet``: the first key of
``FIELD_ENCRYPTION_KEYS`` encrypts, all of them decrypt, and :func:`rotate_all` re-encrypts every
encrypted column under the first. Equality look-ups use a keyed blind index (HMAC-SHA256),
never the ciphertext.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class PiiKind(StrEnum):
    RESIDENT_ID = "resident_id"
    PHONE = "phone"
    NAME = "name"
    CARD = "card"
    ACCOUNT = "account"
    EMAIL = "email"


# Roles that see a kind of value unmasked. Everyone else sees the masked form.
CLEAR_FOR_ROLES: dict[PiiKind, frozenset[str]] = {
    PiiKind.RESIDENT_ID: frozenset({"owner", "teller", "risk_officer"}),
    PiiKind.PHONE: frozenset({"owner", "teller", "relationship_manager", "risk_officer"}),
    PiiKind.NAME: frozenset(
        {"owner", "teller", "relationship_manager", "branch_manager", "risk_officer", "auditor"}
    ),
    PiiKind.CARD: frozenset({"owner"}),
    PiiKind.ACCOUNT: frozenset({"owner", "teller", "risk_officer"}),
    PiiKind.EMAIL: frozenset({"owner", "relationship_manager"}),
}

# Two-character compound surnames kept whole when masking names.
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 "  # noqa: SIM905
    "宇文 司徒 夏侯 轩辕 令狐 钟离 端木 独孤 南宫 西门".split()
)


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_resident_id(value: str) -> str:
    return _keep(value, 4, 4)


def mask_phone(value: str) -> str:
    digits = value.removeprefix("+86")
    prefix = "+86" if digits != value else ""
    return prefix + _keep(digits, 3, 4)


def mask_name(value: str) -> str:
    if not value:
        return value
    if all(ord(c) < 128 for c in value):  # Latin names: keep initials of each word
        return " ".join(w[0] + "*" * (len(w) - 1) for w in value.split())
    surname = value[:2] if value[:2] in _COMPOUND_SURNAMES and len(value) > 2 else value[:1]
    return surname + "*" * (len(value) - len(surname))


def mask_card(value: str) -> str:
    digits = value.replace(" ", "")
    return _keep(digits, 6, 4)


def mask_email(value: str) -> str:
    local, sep, domain = value.partition("@")
    if not sep:
        return _keep(value, 1, 0)
    return (local[:1] + "***" if local else "") + "@" + domain


_MASKERS = {
    PiiKind.RESIDENT_ID: mask_resident_id,
    PiiKind.PHONE: mask_phone,
    PiiKind.NAME: mask_name,
    PiiKind.CARD: mask_card,
    PiiKind.ACCOUNT: mask_card,
    PiiKind.EMAIL: mask_email,
}


def mask(kind: PiiKind, value: str | None) -> str | None:
    if value is None:
        return None
    return _MASKERS[kind](value)


def reveal_for(role: str, kind: PiiKind, value: str | None) -> str | None:
    """The value as ``role`` may see it: clear for the roles allowed, masked otherwise."""
    if value is None:
        return None
    return value if role in CLEAR_FOR_ROLES[kind] else mask(kind, value)


# ------------------------------------------------------------------ encryption
class DecryptionError(Exception):
    """A ciphertext that no configured key can open (wrong keys or tampering)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt field: unknown key or tampered value") from exc


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed digest for equality look-ups on an encrypted field."""
    key = hashlib.sha256(("blind-index:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored encrypted; reads return the plaintext."""

    description = "Text encrypted at rest with the field keys"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(str(value))


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) stored with :class:`EncryptedTextField`."""
    from django.apps import apps

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, EncryptedTextField)
    ]


def rotate_all() -> int:
    """Re-encrypt every encrypted field under the current key; returns rows touched."""
    from django.db import transaction

    touched = 0
    for model, name in encrypted_fields():
        with transaction.atomic():
            for pk, token in model.objects.values_list("pk", name).iterator():  # type: ignore[attr-defined]
                if token is None:
                    continue
                # from_db_value already decrypted; saving re-encrypts under the current key.
                model.objects.filter(pk=pk).update(**{name: token})  # type: ignore[attr-defined]
                touched += 1
    return touched
