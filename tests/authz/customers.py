"""Unified customer view rows: staff only. The 360° view and search need ``customer.view``;
the review queue, decisions, resolution runs and quality trends need ``customer.resolve``."""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import Rule, staff

V1 = "/api/v1/customers"
_R = Role
VIEW = staff(_R.TELLER, _R.RELATIONSHIP_MANAGER, _R.BRANCH_MANAGER, _R.RISK_OFFICER, _R.AUDITOR)
RESOLVE = staff(_R.BRANCH_MANAGER, _R.RISK_OFFICER)

RULES = {
    ("GET", f"{V1}/unified"): Rule(VIEW),
    ("GET", f"{V1}/unified/{{customer_id}}"): Rule(
        VIEW, params={"customer_id": "unknown_uuid"}, missing_is_deny=False
    ),
    ("GET", f"{V1}/review"): Rule(RESOLVE),
    ("POST", f"{V1}/review/{{pair_id}}/decision"): Rule(
        RESOLVE, params={"pair_id": "unknown_uuid"}, body={"decision": "merge"}
    ),
    ("POST", f"{V1}/resolve"): Rule(RESOLVE, body={}),
    ("GET", f"{V1}/quality"): Rule(RESOLVE),
}
