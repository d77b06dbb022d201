"""Payments rows: customers create and read their own orders, payees and QR payments
(another customer's order answers 404); partners with the ``payments`` scope charge payment
codes and issue dynamic QR codes for their own merchants (another's answers as unknown, an
issued code of another's as not found); staff search with ``payment.view`` and refund with
``payment.manage``."""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import CUSTOMERS, Rule, staff

V1 = "/api/v1/payments"
_R = Role
VIEW = staff(_R.TELLER, _R.RELATIONSHIP_MANAGER, _R.BRANCH_MANAGER, _R.RISK_OFFICER, _R.AUDITOR)
MANAGE = staff(_R.TELLER, _R.BRANCH_MANAGER, _R.RISK_OFFICER)
_ORDER = {"debit_account_id": "00000000-0000-0000-0000-000000000001", "amount": "1.00"}
_QR = "00020101021229370016A0000006770101110113006681222333353037645802TH63041DCF"

RULES = {
    ("POST", f"{V1}/orders"): Rule(CUSTOMERS, body=_ORDER),
    ("GET", f"{V1}/orders"): Rule(CUSTOMERS),
    ("GET", f"{V1}/orders/{{order_id}}"): Rule(
        frozenset(), params={"order_id": "unknown_uuid"}, missing_is_deny=True
    ),
    ("GET", f"{V1}/orders/{{order_id}}/receipt.pdf"): Rule(
        frozenset(), params={"order_id": "unknown_uuid"}, missing_is_deny=True
    ),
    ("GET", f"{V1}/payees"): Rule(CUSTOMERS),
    ("POST", f"{V1}/payees"): Rule(CUSTOMERS, body={"name": "李四", "account_number": "1"}),
    ("DELETE", f"{V1}/payees/{{payee_id}}"): Rule(CUSTOMERS, params={"payee_id": "unknown_uuid"}),
    ("POST", f"{V1}/qr/decode"): Rule(CUSTOMERS, body={"payload": _QR}),
    ("POST", f"{V1}/qr/pay"): Rule(
        CUSTOMERS, body={"payload": _QR, "debit_account_id": _ORDER["debit_account_id"]}
    ),
    ("POST", f"{V1}/codes"): Rule(CUSTOMERS, body={"debit_account_id": _ORDER["debit_account_id"]}),
    ("POST", f"{V1}/partner/codes/charge"): Rule(
        frozenset({"partner_scoped"}),
        body={"merchant_code": "NONE", "code": "1", "amount": "1.00", "client_order_id": "o-1"},
    ),
    ("POST", f"{V1}/partner/qr/dynamic"): Rule(
        frozenset({"partner_scoped"}), body={"merchant_code": "NONE", "amount": "1.00"}
    ),
    ("GET", f"{V1}/partner/qr/dynamic/{{qr_id}}"): Rule(
        frozenset(), params={"qr_id": "unknown_uuid"}, missing_is_deny=True
    ),
    ("GET", f"{V1}/staff/orders"): Rule(VIEW),
    ("POST", f"{V1}/staff/orders/{{order_id}}/refund"): Rule(
        MANAGE, params={"order_id": "unknown_uuid"}, body={"amount": "1.00"}
    ),
}
