"""Quick-pay rows: customers list merchants and manage their own bindings (another's binding
answers 404); partners with the ``quickpay`` scope collect tokens, debit, refund and read their
own merchant's bindings and debits (unknown ones answer 404). Staff and unscoped partners are
refused."""

from __future__ import annotations

from tests.authz import CUSTOMERS, Rule

V1 = "/api/v1/payments/quickpay"
PARTNER = frozenset({"partner_scoped"})
_B = {"binding_id": "unknown_uuid"}
_D = {"debit_id": "unknown_uuid"}

RULES = {
    ("GET", f"{V1}/merchants"): Rule(CUSTOMERS),
    ("GET", f"{V1}/bindings"): Rule(CUSTOMERS),
    ("POST", f"{V1}/bindings"): Rule(
        CUSTOMERS,
        body={
            "merchant_code": "NOPE",
            "debit_account_id": "00000000-0000-0000-0000-000000000001",
            "consent": True,
        },
    ),
    ("POST", f"{V1}/bindings/{{binding_id}}/confirm"): Rule(
        CUSTOMERS, params=_B, body={"challenge_id": "x", "code": "000000"}
    ),
    ("POST", f"{V1}/bindings/{{binding_id}}/limits"): Rule(
        CUSTOMERS, params=_B, body={"per_transaction": "1.00", "daily": "2.00"}
    ),
    ("POST", f"{V1}/bindings/{{binding_id}}/unbind"): Rule(CUSTOMERS, params=_B),
    ("GET", f"{V1}/bindings/{{binding_id}}/debits"): Rule(CUSTOMERS, params=_B),
    ("POST", f"{V1}/partner/bindings/{{binding_id}}/token"): Rule(PARTNER, params=_B),
    ("GET", f"{V1}/partner/bindings/{{binding_id}}"): Rule(PARTNER, params=_B),
    ("POST", f"{V1}/partner/bindings/{{binding_id}}/unbind"): Rule(PARTNER, params=_B),
    ("POST", f"{V1}/partner/debits"): Rule(
        PARTNER,
        body={"binding_token": "qpt_unknown", "amount": "1.00", "client_order_id": "authz-1"},
    ),
    ("GET", f"{V1}/partner/debits/{{debit_id}}"): Rule(PARTNER, params=_D),
    ("POST", f"{V1}/partner/debits/{{debit_id}}/refunds"): Rule(
        PARTNER, params=_D, body={"amount": "1.00"}
    ),
}
