"""Accounts rows: customers reach only their own accounts and messages (another customer's or
an unknown account answers 404, checked in tests/accounts/test_api.py); staff and partners are
refused. Opening a Type I account is for tellers and branch managers (``account.open_type1``).
"""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import CUSTOMERS, Rule, staff

V1 = "/api/v1"
ACCOUNT = {"account_id": "unknown_uuid"}
TYPE1 = staff(Role.TELLER, Role.BRANCH_MANAGER)

RULES = {
    ("POST", f"{V1}/accounts"): Rule(
        CUSTOMERS,
        body={"account_type": 2, "bind_bank_code": "105", "bind_account_number": "62270000000"},
    ),
    ("POST", f"{V1}/accounts/type1"): Rule(
        TYPE1,
        body=lambda w: {"customer_id": w.unknown_uuid, "verification_note": "ID card checked"},
    ),
    ("GET", f"{V1}/accounts"): Rule(CUSTOMERS),
    ("GET", f"{V1}/accounts/{{account_id}}"): Rule(CUSTOMERS, params=ACCOUNT),
    ("GET", f"{V1}/accounts/{{account_id}}/statement"): Rule(CUSTOMERS, params=ACCOUNT),
    ("GET", f"{V1}/accounts/{{account_id}}/statement.csv"): Rule(CUSTOMERS, params=ACCOUNT),
    ("GET", f"{V1}/accounts/{{account_id}}/e-statements"): Rule(CUSTOMERS, params=ACCOUNT),
    ("GET", f"{V1}/accounts/{{account_id}}/statement.pdf"): Rule(CUSTOMERS, params=ACCOUNT),
    ("GET", f"{V1}/accounts/{{account_id}}/e-statements/{{month}}.pdf"): Rule(
        CUSTOMERS, params=ACCOUNT
    ),
    ("POST", f"{V1}/accounts/{{account_id}}/deposit-certificates"): Rule(
        CUSTOMERS, params=ACCOUNT, body={"amount": "1.00"}
    ),
    ("GET", f"{V1}/accounts/{{account_id}}/deposit-certificates"): Rule(CUSTOMERS, params=ACCOUNT),
    ("GET", f"{V1}/deposit-certificates/{{certificate_id}}.pdf"): Rule(
        CUSTOMERS, params={"certificate_id": "unknown_uuid"}
    ),
    ("GET", f"{V1}/deposit-certificates/verify"): Rule(
        staff(Role.TELLER, Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.RISK_OFFICER)
        | staff(Role.AUDITOR)
    ),
    ("POST", f"{V1}/accounts/{{account_id}}/freeze"): Rule(CUSTOMERS, params=ACCOUNT),
    ("POST", f"{V1}/accounts/{{account_id}}/unfreeze"): Rule(CUSTOMERS, params=ACCOUNT),
    ("POST", f"{V1}/accounts/{{account_id}}/close"): Rule(CUSTOMERS, params=ACCOUNT),
    ("GET", f"{V1}/notifications"): Rule(CUSTOMERS),
    ("POST", f"{V1}/notifications/{{notification_id}}/read"): Rule(
        CUSTOMERS, params={"notification_id": "unknown_uuid"}
    ),
    ("POST", f"{V1}/notifications/read-all"): Rule(CUSTOMERS),
    ("GET", f"{V1}/notification-preferences"): Rule(CUSTOMERS),
    ("PUT", f"{V1}/notification-preferences"): Rule(CUSTOMERS, body={"sms_kinds": ["security"]}),
}
