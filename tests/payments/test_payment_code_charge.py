"""A merchant's cashier charges the one-time code a customer shows, through the partner API
(OAuth2 client credentials, scope ``payments``, its own merchants only); the code is spent
once; a bad amount is refused before the code is looked up, so it says nothing about
whether a code exists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from rongshu.identity import services as identity
from rongshu.kernel.errors import InvalidInput
from rongshu.payments import services
from rongshu.payments.errors import PaymentCodeInvalid
from rongshu.payments.models import PaymentCode, PaymentOrder
from tests.identity.builders import bearer, make_partner
from tests.payments.conftest import balance, cny, make_payer

pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/partner/codes/charge"


def _shop(code: str, partner_client_id: str = "") -> Any:
    shop = make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code=code,
        name="Cafe",
        city="Shanghai",
        ledger_account_id=shop.account.public_id,
        partner_client_id=partner_client_id,
    )
    return shop


def _charge(client: Client, token: str, body: dict[str, Any], key: str) -> Any:
    return client.post(
        URL,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
        **bearer(token),
    )


def test_a_bad_amount_says_nothing_about_the_code() -> None:
    payer = make_payer()
    _shop("MREV1")
    code = services.do_issue_payment_code(payer.principal, payer.account.public_id)
    for candidate in ("280000000000000000", code.code):
        with pytest.raises(InvalidInput) as refused:
            services.do_charge_payment_code(
                merchant_code="MREV1", code=candidate, amount=cny("0.00"), actor="m"
            )
        assert refused.value.code == "amount_must_be_positive"
    assert PaymentCode.objects.get(code=code.code).used_at is None


def test_the_partner_charges_its_merchants_code_once(api_client: Client) -> None:
    partner = make_partner()
    token = identity.do_issue_client_token(partner.client_id, partner.client_secret).access_token
    payer = make_payer()
    shop = _shop("MCASH1", partner.client_id)
    _shop("MOTHER1")  # another partner's merchant
    code = services.do_issue_payment_code(payer.principal, payer.account.public_id).code
    body = {"merchant_code": "MCASH1", "code": code, "amount": "12.50", "client_order_id": "T-1"}

    other = _charge(api_client, token, {**body, "merchant_code": "MOTHER1"}, "k0")
    assert (other.status_code, other.json()["code"]) == (422, "merchant_unknown")

    paid = _charge(api_client, token, body, "k1")
    assert paid.status_code == 201, paid.content
    assert (paid.json()["state"], paid.json()["rail"]) == ("settled", "qr")
    order = PaymentOrder.objects.get(public_id=paid.json()["id"])
    assert order.idempotency_key == "code:MCASH1:T-1"
    assert balance(shop.account) == 12_50
    replay = _charge(api_client, token, body, "k1")  # the same request again: the same order
    assert (replay.status_code, replay.json()["id"]) == (201, paid.json()["id"])
    again = _charge(api_client, token, {**body, "client_order_id": "T-2"}, "k2")
    assert (again.status_code, again.json()["code"]) == (422, "payment_code_invalid")
    assert balance(shop.account) == 12_50

    unscoped = make_partner([])
    plain = identity.do_issue_client_token(unscoped.client_id, unscoped.client_secret)
    refused = _charge(api_client, plain.access_token, body, "k3")
    assert refused.status_code == 403


def test_an_unknown_code_is_refused(api_client: Client) -> None:
    partner = make_partner()
    token = identity.do_issue_client_token(partner.client_id, partner.client_secret).access_token
    _shop("MCASH2", partner.client_id)
    body = {"merchant_code": "MCASH2", "code": "1" * 18, "amount": "1.00", "client_order_id": "x"}
    r = _charge(api_client, token, body, "k1")
    assert (r.status_code, r.json()["code"]) == (422, PaymentCodeInvalid.code)
