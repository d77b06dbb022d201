"""Quick pay through the REST API: the customer binds with a one-time code, the partner
(client credentials, scope ``quickpay``) collects the token, debits with an Idempotency-Key,
reads and refunds; errors are problem+json with stable codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from rongshu.identity import services as identity
from rongshu.identity.models import OtpChallenge
from rongshu.ledger import services as ledger
from rongshu.payments import quickpay, services
from tests.identity.builders import app_tokens, bearer, make_customer
from tests.payments.conftest import cny, fund

pytestmark = pytest.mark.django_db
V1 = "/api/v1/payments/quickpay"


def post(
    client: Client, url: str, body: dict[str, Any], headers: dict[str, str], key: str = ""
) -> Any:
    extra = dict(headers)
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def world() -> dict[str, Any]:
    customer = make_customer(real_name="张伟")
    me = bearer(app_tokens(customer, "device-quickpay-0001").access_token)
    account = ledger.do_create_customer_account(owner_id=customer.customer_id, name="张伟 活期")
    fund(account, 1_000_00)
    shop_account = ledger.do_create_customer_account(owner_id="shop-qp", name="商城 收款")
    creds = identity.do_create_client("Banyan Mall", ["quickpay"])
    partner = bearer(
        identity.do_issue_client_token(creds.client_id, creds.client_secret).access_token
    )
    other_creds = identity.do_create_client("Other", ["payments"])
    unscoped = bearer(
        identity.do_issue_client_token(
            other_creds.client_id, other_creds.client_secret
        ).access_token
    )
    services.do_create_merchant(
        merchant_code="QPAPI",
        name="榕树商城",
        city="Shenzhen",
        ledger_account_id=shop_account.public_id,
        partner_client_id=creds.client_id,
    )
    quickpay.do_enable_merchant("QPAPI", max_per_transaction=cny("300.00"), max_daily=cny("500.00"))
    return {
        "customer": customer,
        "me": me,
        "account": str(account.public_id),
        "partner": partner,
        "unscoped": unscoped,
    }


def test_bind_collect_token_debit_replay_and_refund(world: dict[str, Any]) -> None:
    c, me, partner = Client(), world["me"], world["partner"]
    merchants = c.get(f"{V1}/merchants", **me).json()
    assert [m["merchant_code"] for m in merchants] == ["QPAPI"]
    assert merchants[0]["max_daily"] == {"amount": "500.00", "currency": "CNY"}

    started = post(
        c,
        f"{V1}/bindings",
        {
            "merchant_code": "QPAPI",
            "debit_account_id": world["account"],
            "per_transaction": "200.00",
            "consent": True,
        },
        me,
    )
    assert started.status_code == 201, started.content
    binding_id = started.json()["binding"]["id"]
    challenge = started.json()["challenge"]["challenge_id"]
    assert started.json()["binding"]["state"] == "pending"

    wrong = post(
        c, f"{V1}/bindings/{binding_id}/confirm", {"challenge_id": challenge, "code": "x"}, me
    )
    assert wrong.status_code == 422
    assert wrong["Content-Type"].startswith("application/problem+json")
    assert wrong.json()["code"] == "invalid_otp"
    # the wrong attempt counted (a durable error), the binding is still pending
    assert OtpChallenge.objects.get(public_id=challenge).attempts == 1

    code = identity.latest_code(world["customer"].phone)
    confirmed = post(
        c, f"{V1}/bindings/{binding_id}/confirm", {"challenge_id": challenge, "code": code}, me
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["state"] == "active"

    # only the partner collects the token, once
    assert post(c, f"{V1}/partner/bindings/{binding_id}/token", {}, me).status_code == 403
    assert (
        post(c, f"{V1}/partner/bindings/{binding_id}/token", {}, world["unscoped"]).status_code
        == 403
    )
    issued = post(c, f"{V1}/partner/bindings/{binding_id}/token", {}, partner)
    assert issued.status_code == 201
    token = issued.json()["binding_token"]
    assert "debit_account_id" not in issued.json()["binding"]  # the partner sees no account
    seen = c.get(f"{V1}/partner/bindings/{binding_id}", **partner)
    assert seen.status_code == 200 and seen.json()["state"] == "active"
    assert "account_label" not in seen.json()
    again = post(c, f"{V1}/partner/bindings/{binding_id}/token", {}, partner)
    assert (again.status_code, again.json()["code"]) == (409, "quickpay.token_already_issued")

    body = {"binding_token": token, "amount": "88.00", "client_order_id": "MALL-1"}
    paid = post(c, f"{V1}/partner/debits", body, partner, key="debit-1")
    assert paid.status_code == 201, paid.content
    debit_id = paid.json()["id"]
    assert paid.json()["state"] == "settled"
    replay = post(c, f"{V1}/partner/debits", body, partner, key="debit-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == debit_id
    reused = post(c, f"{V1}/partner/debits", {**body, "amount": "89.00"}, partner, key="debit-1")
    assert reused.status_code == 422
    # a new key with the same client order id and another amount: the domain refuses it
    clash = post(c, f"{V1}/partner/debits", {**body, "amount": "89.00"}, partner, key="debit-2")
    assert (clash.status_code, clash.json()["code"]) == (422, "quickpay.idempotency_key_reused")
    assert post(c, f"{V1}/partner/debits", body, partner).status_code == 400  # no key

    over = post(
        c,
        f"{V1}/partner/debits",
        {**body, "amount": "200.01", "client_order_id": "MALL-2"},
        partner,
        key="debit-3",
    )
    assert (over.status_code, over.json()["code"]) == (422, "quickpay.limit_exceeded")
    unknown = post(
        c, f"{V1}/partner/debits", {**body, "binding_token": "qpt_nope"}, partner, key="debit-4"
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "quickpay.binding_not_found")

    status = c.get(f"{V1}/partner/debits/{debit_id}", **partner)
    assert status.status_code == 200 and status.json()["client_order_id"] == "MALL-1"
    refund = post(
        c, f"{V1}/partner/debits/{debit_id}/refunds", {"amount": "8.00"}, partner, key="refund-1"
    )
    assert refund.status_code == 201 and refund.json()["refunded"]["amount"] == "8.00"
    too_much = post(
        c, f"{V1}/partner/debits/{debit_id}/refunds", {"amount": "80.01"}, partner, key="refund-2"
    )
    assert (too_much.status_code, too_much.json()["code"]) == (
        422,
        "quickpay.refund_exceeds_debit",
    )

    mine = c.get(f"{V1}/bindings", **me).json()
    assert mine[0]["used_today"]["amount"] == "88.00"
    history = c.get(f"{V1}/bindings/{binding_id}/debits", **me).json()
    assert [d["id"] for d in history] == [debit_id]

    lowered = post(
        c, f"{V1}/bindings/{binding_id}/limits", {"per_transaction": "50.00", "daily": "100.00"}, me
    )
    assert lowered.status_code == 200 and lowered.json()["per_transaction"]["amount"] == "50.00"
    raised = post(
        c, f"{V1}/bindings/{binding_id}/limits", {"per_transaction": "60.00", "daily": "100.00"}, me
    )
    assert (raised.status_code, raised.json()["code"]) == (422, "quickpay.limit_increase_refused")

    gone = post(c, f"{V1}/partner/bindings/{binding_id}/unbind", {}, partner)
    assert gone.status_code == 200 and gone.json()["state"] == "revoked"
    revoked = post(
        c, f"{V1}/partner/debits", {**body, "client_order_id": "MALL-3"}, partner, key="debit-5"
    )
    assert (revoked.status_code, revoked.json()["code"]) == (422, "quickpay.binding_revoked")


def test_bad_input_is_refused(world: dict[str, Any]) -> None:
    c, me = Client(), world["me"]
    no_consent = post(
        c,
        f"{V1}/bindings",
        {"merchant_code": "QPAPI", "debit_account_id": world["account"], "consent": False},
        me,
    )
    assert (no_consent.status_code, no_consent.json()["code"]) == (400, "quickpay.consent_required")
    unknown = post(
        c,
        f"{V1}/bindings",
        {"merchant_code": "NOPE", "debit_account_id": world["account"], "consent": True},
        me,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "quickpay.merchant_unavailable")
    bad_amount = post(
        c,
        f"{V1}/bindings",
        {
            "merchant_code": "QPAPI",
            "debit_account_id": world["account"],
            "daily": "1.234",
            "consent": True,
        },
        me,
    )
    assert bad_amount.status_code == 422 and bad_amount.json()["code"] == "validation_failed"
    assert c.get(f"{V1}/bindings", **world["partner"]).status_code == 403
