"""Authorization tables: one module per domain, each with ``RULES`` keyed by (METHOD, path as
in the OpenAPI document). ``tests/identity/test_authz_matrix.py`` runs every operation of the
OpenAPI document as every principal and fails for an operation without a row here.

A domain adding routes adds its rows in ``tests/authz/<domain>.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rongshu.identity.types import Role

STAFF_ROLES = tuple(f"staff:{r.value}" for r in Role)
PRINCIPALS = (
    "anonymous",
    "customer_a",
    "customer_b",
    *STAFF_ROLES,
    "partner_scoped",
    "partner_unscoped",
)
EVERYONE = frozenset(PRINCIPALS)
SIGNED_IN = EVERYONE - {"anonymous"}
CUSTOMERS = frozenset({"customer_a", "customer_b"})
STAFF = frozenset(STAFF_ROLES)
PEOPLE = CUSTOMERS | STAFF


def staff(*roles: Role) -> frozenset[str]:
    return frozenset(f"staff:{r.value}" for r in roles)


@dataclass(frozen=True)
class Rule:
    """Who may call an operation.

    ``params`` maps path parameters to attributes of the test world (objects that exist and
    belong to customer A, the teller, the scoped partner …). ``body`` is a JSON body or a
    function of the world. With ``missing_is_deny`` a 404 counts as a refusal (object-level
    checks answer "not found" so nothing is disclosed); otherwise only 401 and 403 do.
    """

    allow: frozenset[str]
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | Callable[[Any], dict[str, Any]] | None = None
    missing_is_deny: bool = False
