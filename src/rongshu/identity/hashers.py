"""The password hasher: argon2id with the cost this deployment documents (docs/identity.md).

Cost: ``memory_cost`` 47104 KiB (46 MiB), ``time_cost`` 1, ``parallelism`` 1 — OWASP's
Password Storage Cheat Sheet's first argon2id configuration. Raising the cost in a later
release rehashes each password at its owner's next sign-in (Django's ``must_update``).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class RongshuArgon2Hasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 47104
    parallelism = 1
