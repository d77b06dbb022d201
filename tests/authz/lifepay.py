"""Lifepay rows: the catalogue is public; customers inquire, pay and manage their own saved
accounts and mandates (others' answer 404); staff read breaks and KPIs with ``payment.view``,
resolve breaks with ``payment.manage`` and onboard billers with ``partner.manage``; partners
with the ``lifepay`` scope read their billers' KPIs."""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import CUSTOMERS, EVERYONE, Rule, staff

V1 = "/api/v1/lifepay"
_R = Role
VIEW = staff(_R.TELLER, _R.RELATIONSHIP_MANAGER, _R.BRANCH_MANAGER, _R.RISK_OFFICER, _R.AUDITOR)
MANAGE = staff(_R.TELLER, _R.BRANCH_MANAGER, _R.RISK_OFFICER)
ONBOARD = staff(_R.PARTNER_MANAGER, _R.ADMINISTRATOR)
_ACC = "00000000-0000-0000-0000-000000000001"
_INQ = {"biller_code": "440300-water", "account_no": "12345678"}

RULES = {
    ("GET", f"{V1}/cities"): Rule(EVERYONE),
    ("GET", f"{V1}/billers"): Rule(EVERYONE),
    ("POST", f"{V1}/inquiries"): Rule(CUSTOMERS, body=_INQ),
    ("POST", f"{V1}/payments"): Rule(
        CUSTOMERS, body={**_INQ, "debit_account_id": _ACC, "amount": "1.00"}
    ),
    ("GET", f"{V1}/payments"): Rule(CUSTOMERS),
    ("GET", f"{V1}/payments/{{payment_id}}"): Rule(
        frozenset(), params={"payment_id": "unknown_uuid"}, missing_is_deny=True
    ),
    ("GET", f"{V1}/accounts"): Rule(CUSTOMERS),
    ("POST", f"{V1}/accounts"): Rule(CUSTOMERS, body=_INQ),
    ("DELETE", f"{V1}/accounts/{{saved_id}}"): Rule(CUSTOMERS, params={"saved_id": "unknown_uuid"}),
    ("GET", f"{V1}/mandates"): Rule(CUSTOMERS),
    ("POST", f"{V1}/mandates"): Rule(
        CUSTOMERS, body={**_INQ, "debit_account_id": _ACC, "limit": "100.00"}
    ),
    ("POST", f"{V1}/mandates/{{mandate_id}}/cancel"): Rule(
        CUSTOMERS, params={"mandate_id": "unknown_uuid"}
    ),
    ("GET", f"{V1}/notices"): Rule(CUSTOMERS),
    ("GET", f"{V1}/staff/breaks"): Rule(VIEW),
    ("POST", f"{V1}/staff/breaks/{{break_id}}/resolve"): Rule(
        MANAGE, params={"break_id": "unknown_uuid"}, body={}
    ),
    ("GET", f"{V1}/staff/kpis"): Rule(VIEW),
    ("POST", f"{V1}/staff/billers"): Rule(
        ONBOARD, body={"city_code": "999999", "item_code": "x", "name_zh": "x", "name_en": "x"}
    ),
    ("GET", f"{V1}/partner/kpis"): Rule(frozenset({"partner_scoped"})),
}
