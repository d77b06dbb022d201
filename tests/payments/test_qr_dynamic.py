"""Dynamic merchant QR codes are collection requests the bank issues (payments.dynamic_qr):
the CRC is no signature, so an edited amount (CRC recomputed) or another merchant is refused
and nothing is held or moved; an unknown, expired or paid code is refused; a code is paid
once (a replay with the same key answers the same order); the service, the partner API, the
customer API and the web page; refunds of a dynamic QR payment."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from rongshu.identity import services as identity
from rongshu.identity.types import Role
from rongshu.kernel import clock
from rongshu.kernel.eod import list_eod_jobs
from rongshu.kernel.errors import DomainError, InvalidInput
from rongshu.payments import dynamic_qr, qr, queries, services
from rongshu.payments.errors import QrAlreadyPaid, QrExpired, QrTampered, QrUnknown
from rongshu.payments.models import DynamicQr, PaymentOrder
from rongshu.payments.types import DynamicQrView
from tests.identity.builders import app_tokens, bearer, make_partner, make_staff, staff_client
from tests.payments.conftest import Payer, available, balance, cny, make_payer

pytestmark = pytest.mark.django_db

V1 = "/api/v1/payments"


def _shop(code: str = "MDYN1", partner_client_id: str = "") -> Payer:
    shop = make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code=code,
        name="Corner Shop",
        city="Beijing",
        ledger_account_id=shop.account.public_id,
        partner_client_id=partner_client_id,
    )
    return shop


def _issue(
    amount: str = "500.00", *, code: str = "MDYN1", bill: str = "BILL-0042", seconds: int = 900
) -> DynamicQrView:
    return services.do_issue_dynamic_qr(
        merchant_code=code,
        amount=cny(amount),
        bill_number=bill,
        expires_in_seconds=seconds,
        actor="test:cashier",
    )


def _edit(payload: str, **changes: str) -> str:
    """The payload with top-level objects replaced (``t54="5.00"``) and the CRC recomputed:
    what a fraudster does."""
    objects = [(t, changes.get(f"t{t}", v)) for t, v in qr.decode(payload).objects if t != "63"]
    return qr.encode(objects)


def _pay(payer: Payer, payload: str, key: str = "", amount: str | None = None) -> Any:
    return services.do_pay_merchant_qr(
        payer.principal,
        payload=payload,
        debit_account_id=payer.account.public_id,
        amount=cny(amount) if amount else None,
        idempotency_key=key,
    )


def _row(view: DynamicQrView) -> DynamicQr:
    return DynamicQr.objects.get(public_id=view.qr_id)


# ------------------------------------------------------------------ the payload
def test_the_issued_payload_refers_to_the_request_within_emvco_limits() -> None:
    _shop()
    issued = _issue()
    decoded = qr.decode(issued.payload)
    assert decoded.is_dynamic and decoded.amount == "500.00" and decoded.currency == "CNY"
    assert decoded.rongshu_merchant_id == "MDYN1"
    assert decoded.reference == issued.reference and len(issued.reference) <= 25
    assert decoded.bill_number == "BILL-0042"
    assert issued.state == "open" and issued.order_id is None
    assert issued.expires_at - clock.now() <= dt.timedelta(seconds=900)
    assert _issue().reference != issued.reference  # unguessable, one per bill


def test_issuing_refuses_bad_input() -> None:
    _shop()
    for kwargs, code in (
        ({"amount": "0.00"}, "amount_must_be_positive"),
        ({"bill": "账单1"}, "qr_bill_number"),
        ({"bill": "B" * 26}, "qr_bill_number"),
        ({"seconds": 10}, "qr_expiry"),
        ({"code": "NOPE"}, "merchant_unknown"),
    ):
        with pytest.raises(DomainError) as refused:
            _issue(**kwargs)  # type: ignore[arg-type]
        assert refused.value.code == code
    assert DynamicQr.objects.count() == 0


# ------------------------------------------------------------------ refusals
def test_a_tampered_amount_is_refused_and_nothing_is_held() -> None:
    payer, shop = make_payer(), _shop()
    issued = _issue("500.00")
    tampered = _edit(issued.payload, t54="5.00")
    assert qr.decode(tampered).amount == "5.00"  # the CRC is right: it is no signature
    before = (balance(payer.account), available(payer.account))
    for amount in (None, "5.00"):  # also when the customer "confirms" the edited amount
        with pytest.raises(QrTampered) as refused:
            _pay(payer, tampered, amount=amount)
        assert refused.value.code == "qr_tampered"
    with pytest.raises(QrTampered):  # the customer's decode shows no edited amount either
        queries.decode_qr(tampered)
    with pytest.raises(QrTampered):  # nor another currency
        _pay(payer, _edit(issued.payload, t53=qr.NUMERIC_CURRENCY["USD"]))
    assert PaymentOrder.objects.count() == 0
    assert (balance(payer.account), available(payer.account)) == before
    assert balance(shop.account) == 0
    assert _row(issued).state == "open"  # the genuine code is still payable
    assert _pay(payer, issued.payload).amount == cny("500.00")
    assert balance(shop.account) == 500_00


def test_another_merchant_substituted_in_the_code_is_refused() -> None:
    payer, shop = make_payer(), _shop()
    fraud = _shop("MFRAUD1")
    issued = _issue("88.00")
    account = qr.encode_tlv([("00", qr.RONGSHU_GUI), ("01", "MFRAUD1")])
    swapped = _edit(issued.payload, t26=account)
    assert qr.decode(swapped).rongshu_merchant_id == "MFRAUD1"
    with pytest.raises(QrUnknown) as refused:
        _pay(payer, swapped)
    assert refused.value.code == "qr_unknown"
    assert PaymentOrder.objects.count() == 0
    assert balance(fraud.account) == balance(shop.account) == 0


def test_a_forged_code_is_refused() -> None:
    payer, _ = make_payer(), _shop()
    _issue()
    forged = [
        # a reference the bank never issued
        qr.merchant_payload(
            merchant_id="MDYN1", name="Corner Shop", city="Beijing", amount="1.00", reference="X1"
        ),
        # no reference at all
        qr.merchant_payload(merchant_id="MDYN1", name="Corner Shop", city="Beijing", amount="1.00"),
    ]
    # an amount in a code posing as static (point of initiation 11)
    forged.append(_edit(forged[0], t01=qr.STATIC))
    for payload in forged:
        with pytest.raises(QrUnknown):
            _pay(payer, payload)
        with pytest.raises(QrUnknown):
            queries.decode_qr(payload)
    assert PaymentOrder.objects.count() == 0


def test_an_expired_code_is_refused() -> None:
    payer, shop = make_payer(), _shop()
    issued = _issue("20.00", seconds=60)
    later = issued.expires_at + dt.timedelta(seconds=1)
    with clock.frozen_time(later):
        assert queries.decode_qr(issued.payload).state == "expired"
        with pytest.raises(QrExpired) as refused:
            _pay(payer, issued.payload, key="late-1")
        assert refused.value.code == "qr_expired"
        assert dynamic_qr.do_expire_dynamic_qrs() == 1
    assert _row(issued).state == "expired"
    with pytest.raises(QrExpired):
        _pay(payer, issued.payload)
    assert PaymentOrder.objects.count() == 0 and balance(shop.account) == 0
    assert "payments.expire_dynamic_qrs" in list_eod_jobs()


def test_a_code_is_paid_once_and_a_replay_answers_the_same_order() -> None:
    payer, other, shop = make_payer(), make_payer(name="李四"), _shop()
    issued = _issue("30.00")
    first = _pay(payer, issued.payload, key="k-1")
    assert first.state == "settled" and first.remittance_info == "BILL-0042"
    assert _pay(payer, issued.payload, key="k-1").order_id == first.order_id  # replay
    for who, key in ((payer, "k-2"), (payer, ""), (other, "k-1")):
        with pytest.raises(QrAlreadyPaid) as refused:
            _pay(who, issued.payload, key=key)
        assert refused.value.code == "qr_already_paid"
    row = _row(issued)
    assert row.state == "paid" and row.order is not None
    assert row.order.public_id == first.order_id
    # the same key for another code of the same amount is not answered with this order
    second = _issue("30.00")
    with pytest.raises(DomainError) as reused:
        _pay(payer, second.payload, key="k-1")
    assert reused.value.code == "idempotency_key_reused"
    assert PaymentOrder.objects.count() == 1
    assert balance(shop.account) == 30_00
    assert balance(payer.account) == 100_000_00 - 30_00
    assert balance(other.account) == 100_000_00


def test_two_payers_racing_for_one_code_make_one_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both got past the state check before either committed (SQLite takes no row locks):
    the conditional UPDATE that marks the code paid lets exactly one through, and the
    loser's whole order (ledger postings included) rolls back."""
    payer, other, shop = make_payer(), make_payer(name="李四"), _shop()
    issued = _issue("42.00")
    monkeypatch.setattr(dynamic_qr, "lock_open", lambda row, now: None)
    won = _pay(payer, issued.payload, key="race-a")
    with pytest.raises(QrAlreadyPaid):
        _pay(other, issued.payload, key="race-b")
    assert list(PaymentOrder.objects.values_list("public_id", flat=True)) == [won.order_id]
    assert balance(shop.account) == 42_00
    assert balance(other.account) == available(other.account) == 100_000_00


def test_a_different_amount_entered_is_refused() -> None:
    payer, _ = make_payer(), _shop()
    issued = _issue("10.00")
    with pytest.raises(InvalidInput) as refused:
        _pay(payer, issued.payload, amount="9.00")
    assert refused.value.code == "qr_amount_fixed"
    assert _pay(payer, issued.payload, amount="10.00").amount == cny("10.00")


# ------------------------------------------------------------------ happy paths
def test_pay_an_issued_code_through_the_service_and_refund_it() -> None:
    payer, shop = make_payer(), _shop()
    issued = _issue("128.00")
    decoded = queries.decode_qr(issued.payload)
    assert decoded.ours and decoded.dynamic and decoded.amount == cny("128.00")
    assert (decoded.bill_number, decoded.state) == ("BILL-0042", "open")
    paid = _pay(payer, issued.payload, key="pay-1")
    assert paid.state == "settled" and paid.rail == "qr" and paid.amount == cny("128.00")
    assert paid.merchant_name == "Corner Shop"
    row = _row(issued)
    assert row.state == "paid" and row.paid_at is not None and row.order is not None
    assert dynamic_qr.dynamic_qr_view(row).order_id == paid.order_id
    assert queries.decode_qr(issued.payload).state == "paid"
    refunded = services.do_refund(make_staff(Role.TELLER), paid.order_id, cny("28.00"), reason="退")
    assert refunded.refunded == cny("28.00")
    assert balance(shop.account) == 100_00
    assert balance(payer.account) == 100_000_00 - 100_00


def test_static_codes_still_take_the_amount_entered() -> None:
    payer, shop = make_payer(), _shop()
    merchant = queries.find_merchant("MDYN1")
    assert merchant is not None
    paid = _pay(payer, merchant.static_payload, amount="7.30")
    assert paid.amount == cny("7.30") and paid.remittance_info == "Corner Shop"
    assert balance(shop.account) == 7_30
    assert DynamicQr.objects.count() == 0


def _post(
    client: Client, path: str, body: dict[str, Any], headers: dict[str, str], key: str
) -> Any:
    return client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
        **headers,
    )


def test_issue_and_pay_through_the_api(api_client: Client) -> None:
    partner = make_partner()
    token = identity.do_issue_client_token(partner.client_id, partner.client_secret).access_token
    cashier = bearer(token)
    shop = _shop("MAPI1", partner.client_id)
    _shop("MOTHER2")  # another partner's merchant
    payer, other = make_payer(), make_payer(name="李四")
    me = bearer(app_tokens(payer.customer, "device-dynamic-qr-1").access_token)
    them = bearer(app_tokens(other.customer, "device-dynamic-qr-2").access_token)

    body = {"merchant_code": "MAPI1", "amount": "66.60", "bill_number": "T-7"}
    theirs_body = {**body, "merchant_code": "MOTHER2"}
    refused = _post(api_client, f"{V1}/partner/qr/dynamic", theirs_body, cashier, "i-0")
    assert (refused.status_code, refused.json()["code"]) == (422, "merchant_unknown")
    issued = _post(api_client, f"{V1}/partner/qr/dynamic", body, cashier, "i-1")
    assert issued.status_code == 201, issued.content
    code = issued.json()
    assert code["state"] == "open" and code["amount"]["amount"] == "66.60"
    assert code["bill_number"] == "T-7" and code["order_id"] is None

    decoded = _post(api_client, f"{V1}/qr/decode", {"payload": code["payload"]}, me, "d-1")
    assert decoded.status_code == 200, decoded.content
    assert decoded.json()["state"] == "open" and decoded.json()["bill_number"] == "T-7"

    pay = {
        "payload": _edit(code["payload"], t54="0.66"),
        "debit_account_id": str(payer.account.public_id),
    }
    tampered = _post(api_client, f"{V1}/qr/pay", pay, me, "p-0")
    assert tampered.status_code == 422
    assert tampered["Content-Type"].startswith("application/problem+json")
    assert tampered.json()["code"] == "qr_tampered"
    assert PaymentOrder.objects.count() == 0

    pay["payload"] = code["payload"]
    paid = _post(api_client, f"{V1}/qr/pay", pay, me, "p-1")
    assert paid.status_code == 201, paid.content
    assert paid.json()["amount"]["amount"] == "66.60" and paid.json()["remittance_info"] == "T-7"
    again = _post(api_client, f"{V1}/qr/pay", pay, me, "p-1")
    assert (again.status_code, again.json()["id"]) == (201, paid.json()["id"])
    theirs_pay = {**pay, "debit_account_id": str(other.account.public_id)}
    twice = _post(api_client, f"{V1}/qr/pay", theirs_pay, them, "p-2")
    assert (twice.status_code, twice.json()["code"]) == (409, "qr_already_paid")

    seen = api_client.get(f"{V1}/partner/qr/dynamic/{code['id']}", **cashier)
    assert seen.status_code == 200
    assert (seen.json()["state"], seen.json()["order_id"]) == ("paid", paid.json()["id"])
    assert balance(shop.account) == 66_60 and PaymentOrder.objects.count() == 1

    stranger = make_partner()
    theirs = identity.do_issue_client_token(stranger.client_id, stranger.client_secret)
    hidden = api_client.get(f"{V1}/partner/qr/dynamic/{code['id']}", **bearer(theirs.access_token))
    assert (hidden.status_code, hidden.json()["code"]) == (404, "dynamic_qr_not_found")


def test_the_web_page_refuses_an_altered_or_paid_code() -> None:
    payer, shop = make_payer(), _shop()
    issued = _issue("15.00")
    client = staff_client(payer.customer.user_id)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    tampered = _edit(issued.payload, t54="1.50")
    page = client.post(
        "/me/payments/qr/", {"step": "decode", "payload": tampered}, **en
    ).content.decode()
    assert 'id="qr-error"' in page and "This QR code was altered" in page

    page = client.post(
        "/me/payments/qr/", {"step": "decode", "payload": issued.payload}, **en
    ).content.decode()
    assert 'id="qr-bill-number">BILL-0042<' in page and 'name="amount"' not in page
    key = page.split('name="key" value="', 1)[1].split('"', 1)[0]
    form = {
        "step": "pay",
        "payload": issued.payload,
        "key": key,
        "debit_account": str(payer.account.public_id),
    }
    paid = client.post("/me/payments/qr/", form, **en)
    assert paid.status_code == 302
    again = client.post("/me/payments/qr/", form, **en)  # a double submit: the same order
    assert again.status_code == 302 and again["Location"] == paid["Location"]
    page = client.post(
        "/me/payments/qr/", {"step": "decode", "payload": issued.payload}, **en
    ).content.decode()
    assert "This QR code has already been paid." in page
    assert PaymentOrder.objects.count() == 1 and balance(shop.account) == 15_00
