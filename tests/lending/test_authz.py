"""The authorization matrix, for lending's operations only (fast feedback; the full matrix in
``tests/identity/test_authz_matrix.py`` covers them too)."""

from __future__ import annotations

from tests.authz import PRINCIPALS
from tests.authz.lending import RULES
from tests.identity.test_authz_matrix import World, _call, _denied, operations, world

__all__ = ["world"]


def test_lending_rows_cover_lending_operations() -> None:
    ops = {op for op in operations() if op[1].startswith("/api/v1/lending/")}
    assert ops == set(RULES)


def test_lending_matrix(world: World) -> None:
    mismatches = []
    for (method, path), rule in sorted(RULES.items()):
        for who in PRINCIPALS:
            status = _call(world, who, method, path, rule)
            expected = who in rule.allow
            if status == 500 or _denied(status, rule) == expected:
                mismatches.append(f"{method} {path} as {who}: expected {expected}, got {status}")
    assert not mismatches, "\n".join(mismatches)
