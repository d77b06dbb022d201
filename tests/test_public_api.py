"""ARCHITECTURE.md §2: a module uses another domain only through that domain's public API
(services, queries, types, errors, events) — never its models or internals. Channels and the
simulation follow the same rule; only a domain's own code touches its models."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "rongshu"
DOMAINS = {
    "identity",
    "customers",
    "ledger",
    "payments",
    "accounts",
    "lifepay",
    "lending",
    "commerce",
    "branch",
    "insight",
    "monitoring",
    "catalog",
    "assistant",
}
PUBLIC = {"services", "queries", "types", "errors", "events"}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        if "migrations" in parts:
            continue
        owner = parts[0]
        for name in sorted(_imported(path)):
            bits = name.split(".")
            if len(bits) < 3 or bits[0] != "rongshu" or bits[1] not in DOMAINS:
                continue
            if bits[1] == owner or bits[2] in PUBLIC:
                continue
            # a subpackage of a domain (payments.clearing) exports its own public API
            if (SRC / bits[1] / bits[2]).is_dir() and (len(bits) == 3 or bits[3] in PUBLIC):
                continue
            found.append(f"{path.relative_to(SRC)} imports {'.'.join(bits[:3])}")
    return sorted(set(found))


# Known debt, written down so it only shrinks: channels and demo steps that still reach into a
# domain's models or internals. Move what they need into that domain's services/queries/types
# and delete the line here (the test fails when a listed import is gone, too).
KNOWN_DEBT = {
    "api/identity.py imports rongshu.identity.models",
    "simulation/accounts_demo.py imports rongshu.accounts.models",
    "simulation/accounts_demo.py imports rongshu.identity.models",
    "simulation/identity_demo.py imports rongshu.identity.models",
    "simulation/ledger_demo.py imports rongshu.ledger.interest",
    "simulation/ledger_demo.py imports rongshu.ledger.models",
    "simulation/payments_demo.py imports rongshu.identity.models",
    "simulation/payments_demo.py imports rongshu.ledger.models",
    "web/accounts_views.py imports rongshu.accounts.numbers",
    "web/accounts_views.py imports rongshu.accounts.verifier",
    "web/assistant_views.py imports rongshu.assistant.models",
    "web/clearing_views.py imports rongshu.payments.clearing",
    "web/identity_views.py imports rongshu.identity.models",
    "web/payments_views.py imports rongshu.payments.qr",
}


def test_domains_are_used_only_through_their_public_api() -> None:
    found = set(violations())
    assert sorted(found - KNOWN_DEBT) == [], "use the domain's services/queries/types instead"
    assert sorted(KNOWN_DEBT - found) == [], "debt paid off: delete these lines from KNOWN_DEBT"
