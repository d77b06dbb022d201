"""Ledger rows: staff whose role allows ``ledger.view`` read; ``ledger.post`` posts transfers;
``account.freeze`` freezes and closes; ``account.unfreeze`` requests a (four-eyes) unfreeze
(identity's PERMISSIONS table). Customers and partners never reach the ledger API directly."""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import Rule, staff

V1 = "/api/v1"
_R = Role
VIEW = staff(_R.TELLER, _R.RELATIONSHIP_MANAGER, _R.BRANCH_MANAGER, _R.RISK_OFFICER, _R.AUDITOR)
POST = staff(_R.TELLER, _R.BRANCH_MANAGER)
FREEZE = staff(_R.TELLER, _R.BRANCH_MANAGER, _R.RISK_OFFICER)  # account.freeze
UNFREEZE = staff(_R.BRANCH_MANAGER, _R.RISK_OFFICER)  # account.unfreeze
ACCOUNT = {"account_id": "unknown_uuid"}  # allowed callers get 404, the others 401/403
REASON = {"reason": "authorization matrix"}

RULES = {
    ("POST", f"{V1}/ledger/transfers"): Rule(POST, body={"transfers": []}),
    ("GET", f"{V1}/ledger/accounts/{{account_id}}"): Rule(
        VIEW, params={"account_id": "unknown_uuid"}
    ),
    ("GET", f"{V1}/ledger/accounts/{{account_id}}/statement"): Rule(
        VIEW, params={"account_id": "unknown_uuid"}
    ),
    ("GET", f"{V1}/ledger/trial-balance"): Rule(VIEW),
    ("POST", f"{V1}/ledger/accounts/{{account_id}}/freeze"): Rule(
        FREEZE, params=ACCOUNT, body={"mode": "full", **REASON}
    ),
    ("POST", f"{V1}/ledger/accounts/{{account_id}}/unfreeze"): Rule(
        UNFREEZE, params=ACCOUNT, body=REASON
    ),
    ("POST", f"{V1}/ledger/accounts/{{account_id}}/close"): Rule(
        FREEZE, params=ACCOUNT, body=REASON
    ),
}
