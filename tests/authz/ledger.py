"""Ledger rows: PLACEHOLDERS written by the identity work while the ledger router uses its
provisional staff-session auth. "Staff only": every staff role may call, nobody else. The
ledger domain replaces these with per-action rows (ledger.view / ledger.post, data scope)
when it moves to ``rongshu.api.auth.principal_auth``."""

from __future__ import annotations

from tests.authz import STAFF, Rule

V1 = "/api/v1"

RULES = {
    ("POST", f"{V1}/ledger/transfers"): Rule(STAFF, body={"transfers": []}),
    ("GET", f"{V1}/ledger/accounts/{{account_id}}"): Rule(
        STAFF, params={"account_id": "unknown_uuid"}
    ),
    ("GET", f"{V1}/ledger/accounts/{{account_id}}/statement"): Rule(
        STAFF, params={"account_id": "unknown_uuid"}
    ),
    ("GET", f"{V1}/ledger/trial-balance"): Rule(STAFF),
}
