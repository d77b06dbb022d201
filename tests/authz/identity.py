from __future__ import annotations

import uuid

from rongshu.identity.types import Role
from tests.authz import CUSTOMERS, EVERYONE, PEOPLE, SIGNED_IN, STAFF, Rule, staff
from tests.identity.builders import next_phone

_R = Role
V1 = "/api/v1"

RULES = {
    # anonymous entry points
    ("POST", f"{V1}/auth/register/start"): Rule(EVERYONE, body=lambda w: {"phone": next_phone()}),
    ("POST", f"{V1}/auth/register"): Rule(
        EVERYONE,
        body={
            "challenge_id": str(uuid.uuid4()),
            "code": "000000",
            "password": "a-good-password",
            "real_name": "赵六",
            "resident_id": "11010519491231002X",
        },
    ),
    ("POST", f"{V1}/auth/token"): Rule(
        EVERYONE,
        body=lambda w: {
            "grant_type": "client_credentials",
            "client_id": w.partner_scoped.client_id,
            "client_secret": w.partner_scoped.client_secret,
        },
    ),
    ("POST", f"{V1}/auth/revoke"): Rule(EVERYONE, body={"token": "rsa_unknown"}),
    ("POST", f"{V1}/auth/password-reset/start"): Rule(
        EVERYONE, body=lambda w: {"phone": w.customer_a.phone}
    ),
    ("POST", f"{V1}/auth/password-reset/complete"): Rule(
        EVERYONE,
        body={"challenge_id": str(uuid.uuid4()), "code": "000000", "new_password": "x-y-z-w-1"},
    ),
    # the caller's own things
    ("GET", f"{V1}/identity/me"): Rule(SIGNED_IN),
    ("GET", f"{V1}/identity/sessions"): Rule(PEOPLE),
    ("DELETE", f"{V1}/identity/sessions/{{session_id}}"): Rule(
        frozenset({"customer_a"}), params={"session_id": "session_a"}, missing_is_deny=True
    ),
    ("GET", f"{V1}/identity/devices"): Rule(PEOPLE),
    ("DELETE", f"{V1}/identity/devices/{{device_id}}"): Rule(
        frozenset({"customer_a"}), params={"device_id": "device_a"}, missing_is_deny=True
    ),
    ("POST", f"{V1}/identity/step-up"): Rule(CUSTOMERS, body={"action": "transfer.large"}),
    ("POST", f"{V1}/identity/step-up/verify"): Rule(
        CUSTOMERS, body={"challenge_id": str(uuid.uuid4()), "code": "123456"}
    ),
    ("GET", f"{V1}/identity/consents"): Rule(CUSTOMERS),
    ("PUT", f"{V1}/identity/consents/{{purpose}}"): Rule(
        CUSTOMERS, params={"purpose": "purpose"}, body={"granted": True}
    ),
    # staff
    ("GET", f"{V1}/identity/customers/{{customer_id}}"): Rule(
        frozenset({"customer_a"})
        | staff(_R.TELLER, _R.RELATIONSHIP_MANAGER, _R.BRANCH_MANAGER, _R.RISK_OFFICER, _R.AUDITOR),
        params={"customer_id": "customer_a_id"},
        missing_is_deny=True,
    ),
    ("GET", f"{V1}/identity/staff"): Rule(staff(_R.BRANCH_MANAGER, _R.AUDITOR, _R.ADMINISTRATOR)),
    ("POST", f"{V1}/identity/staff/{{staff_id}}/role"): Rule(
        staff(_R.ADMINISTRATOR), params={"staff_id": "teller_id"}, body={"role": "auditor"}
    ),
    ("GET", f"{V1}/identity/approvals"): Rule(STAFF),
    ("POST", f"{V1}/identity/approvals/{{approval_id}}/approve"): Rule(
        staff(_R.ADMINISTRATOR), params={"approval_id": "approval_id"}, body={"note": "ok"}
    ),
    ("POST", f"{V1}/identity/approvals/{{approval_id}}/reject"): Rule(
        staff(_R.ADMINISTRATOR), params={"approval_id": "approval_id"}, body={"note": "no"}
    ),
    ("GET", f"{V1}/identity/partners"): Rule(
        staff(_R.PARTNER_MANAGER, _R.AUDITOR, _R.ADMINISTRATOR)
    ),
    ("POST", f"{V1}/identity/partners/{{client_id}}/rotate-secret"): Rule(
        staff(_R.PARTNER_MANAGER, _R.ADMINISTRATOR), params={"client_id": "partner_client_id"}
    ),
    # partners themselves
    ("GET", f"{V1}/identity/partner/me"): Rule(frozenset({"partner_scoped"})),
    ("POST", f"{V1}/identity/partner/webhook-secret"): Rule(frozenset({"partner_scoped"})),
}
