"""Lending rows: customers read their offer, apply, accept, repay and read their own loans
(another customer's answers 404); staff review with ``loan.decide``, approve models with
``model.approve`` and write off with ``loan.write_off``."""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import CUSTOMERS, Rule, staff

V1 = "/api/v1/lending"
_R = Role
DECIDE = staff(_R.BRANCH_MANAGER, _R.RISK_OFFICER)
MODELS = staff(_R.RISK_OFFICER)
WRITE_OFF = staff(_R.RISK_OFFICER)
_UNKNOWN = "unknown_uuid"

RULES = {
    ("GET", f"{V1}/offer"): Rule(CUSTOMERS),
    ("POST", f"{V1}/applications"): Rule(
        CUSTOMERS, body={"amount": "5000.00", "term_months": 6, "consent_credit_bureau": True}
    ),
    ("GET", f"{V1}/applications"): Rule(CUSTOMERS),
    ("GET", f"{V1}/applications/{{application_id}}"): Rule(
        frozenset(), params={"application_id": _UNKNOWN}, missing_is_deny=True
    ),
    ("POST", f"{V1}/applications/{{application_id}}/accept"): Rule(
        frozenset(), params={"application_id": _UNKNOWN}, missing_is_deny=True
    ),
    ("GET", f"{V1}/loans"): Rule(CUSTOMERS),
    ("GET", f"{V1}/loans/{{loan_id}}"): Rule(
        frozenset(), params={"loan_id": _UNKNOWN}, missing_is_deny=True
    ),
    ("POST", f"{V1}/loans/{{loan_id}}/repayments"): Rule(
        frozenset(), params={"loan_id": _UNKNOWN}, body={"amount": "1.00"}, missing_is_deny=True
    ),
    ("GET", f"{V1}/staff/queue"): Rule(DECIDE),
    ("POST", f"{V1}/staff/applications/{{application_id}}/review"): Rule(
        DECIDE, params={"application_id": _UNKNOWN}, body={"approve": True}
    ),
    ("GET", f"{V1}/staff/models"): Rule(MODELS),
    ("POST", f"{V1}/staff/models"): Rule(MODELS, body={"artifact_base64": "bm90IGEgbW9kZWw="}),
    ("POST", f"{V1}/staff/models/{{model_id}}/approve"): Rule(
        MODELS, params={"model_id": _UNKNOWN}
    ),
    ("POST", f"{V1}/staff/models/{{model_id}}/activate"): Rule(
        MODELS, params={"model_id": _UNKNOWN}
    ),
    ("POST", f"{V1}/staff/loans/{{loan_id}}/write-off"): Rule(
        WRITE_OFF, params={"loan_id": _UNKNOWN}, body={"reason": "uncollectable"}
    ),
    ("POST", f"{V1}/staff/write-offs/{{write_off_id}}/approve"): Rule(
        WRITE_OFF, params={"write_off_id": _UNKNOWN}
    ),
    ("GET", f"{V1}/staff/portfolio"): Rule(DECIDE),
}
