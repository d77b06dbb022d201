"""EMVCo QR: CRC check value, every published sample, the bad one, lengths and CRCs that are
not ASCII, round trips, decoding over the API, paying a merchant and the customer-presented
code."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from rongshu.kernel import clock
from rongshu.payments import qr, queries, services
from rongshu.payments.errors import PaymentCodeInvalid
from tests.identity.builders import app_tokens, bearer, make_customer
from tests.payments.conftest import balance, cny, make_payer

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "emvco-qr" / "SAMPLES.md"


def samples() -> tuple[list[tuple[str, str]], str]:
    text = SAMPLES.read_text(encoding="utf-8")
    good = re.findall(r"## \d+\. CRC `([0-9A-F]{4})`.*?```\n(.+?)\n```", text, re.S)
    bad = re.search(r"## Negative vector.*?```\n(.+?)\n```", text, re.S)
    assert bad is not None
    return good, bad.group(1)


def test_crc_check_value() -> None:
    assert qr.crc16_ccitt_false(b"123456789") == 0x29B1


def test_every_sample_decodes_and_its_crc_verifies() -> None:
    good, _ = samples()
    assert len(good) == 10
    for crc, payload in good:
        decoded = qr.decode(payload)
        assert decoded.get("63") == crc
        assert qr.crc_of(payload[:-4]) == crc
        assert decoded.get("00") == "01"
    first = qr.decode(good[0][1])
    assert first.amount == "23.72" and first.currency == "CNY" and first.is_dynamic
    assert first.templates["64"]["01"] == "最佳运输"


def test_the_bad_sample_is_rejected() -> None:
    _, bad = samples()
    with pytest.raises(qr.QrInvalid) as caught:
        qr.decode(bad)
    assert caught.value.code == "qr_bad_crc"
    assert qr.decode(bad[:-4] + "42BE").amount == "20.15"


def test_truncated_payload_is_malformed() -> None:
    good, _ = samples()
    with pytest.raises(qr.QrInvalid) as caught:
        qr.decode(good[4][1][:-10])
    assert caught.value.code in {"qr_malformed", "qr_bad_crc"}


def test_unicode_digit_in_tlv_length_is_qr_malformed_not_a_crash() -> None:
    # "²".isdigit() is True but int("²") raises ValueError: the decoder must answer
    # QrInvalid (qr_malformed, a 4xx), not let a ValueError escape (a 500 in API and page).
    payload = "000201" + "010²12" + "6304ABCD"
    with pytest.raises(qr.QrInvalid) as caught:
        qr.decode(payload)
    assert caught.value.code == "qr_malformed"


@pytest.mark.parametrize(
    "length",
    ["\u0660\u0662", "\uff10\uff12", "\u09e6\u09e8"],  # Arabic-Indic, full-width, Bengali
)
def test_non_ascii_digits_in_tlv_length_are_refused(length: str) -> None:
    # EMVCo lengths are two ASCII digits; int() reads these as 2, but they are not a length
    # (the CRC is right, so only the length can refuse the payload).
    body = "000201" + f"01{length}12" + "6304"
    with pytest.raises(qr.QrInvalid) as caught:
        qr.decode(body + qr.crc_of(body))
    assert caught.value.code == "qr_malformed"
    with pytest.raises(qr.QrInvalid):  # and the ID is two ASCII digits too
        qr.decode_tlv("0\uff110212")


def test_crc_is_four_ascii_hex_digits() -> None:
    good, _ = samples()
    _crc, payload = good[0]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in payload[-4:])  # "２９Ｂ１"-like
    with pytest.raises(qr.QrInvalid) as caught:
        qr.decode(payload[:-4] + full_width)
    assert caught.value.code == "qr_malformed"
    assert qr.decode(payload[:-4] + payload[-4:].lower()).get("63") == payload[-4:].lower()


@pytest.mark.django_db
def test_api_decode_of_unicode_digit_length_is_a_problem_not_a_500() -> None:
    customer = make_customer(real_name="王五")
    me = bearer(app_tokens(customer, "device-review-qr-01").access_token)
    response = Client(raise_request_exception=False).post(
        "/api/v1/payments/qr/decode",
        data=json.dumps({"payload": "000201" + "010²12" + "6304ABCD"}),
        content_type="application/json",
        **me,
    )
    assert response.status_code in (400, 422), response.status_code
    assert response.json()["code"] == "qr_malformed"


text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x9FFF, exclude_categories=("Cs",)),
    min_size=1,
    max_size=25,
)


@given(
    merchant=st.from_regex(r"[A-Z0-9]{4,20}", fullmatch=True),
    name=text,
    city=st.text(min_size=1, max_size=15),
    minor=st.one_of(st.none(), st.integers(min_value=1, max_value=10**9)),
)
def test_round_trip(merchant: str, name: str, city: str, minor: int | None) -> None:
    amount = None if minor is None else cny(f"{minor // 100}.{minor % 100:02d}").amount_str()
    payload = qr.merchant_payload(
        merchant_id=merchant,
        name=name,
        city=city,
        amount=amount,
        reference="R1" if amount else None,
    )
    decoded = qr.decode(payload)
    assert decoded.rongshu_merchant_id == merchant
    assert decoded.merchant_name == name[:25]
    assert decoded.get("60") == city[:15]
    assert decoded.amount == amount
    assert decoded.is_dynamic == (amount is not None)
    assert qr.decode_tlv(qr.encode_tlv(list(decoded.objects))) == list(decoded.objects)


def test_qr_image_is_svg() -> None:
    svg = qr.qr_svg(qr.merchant_payload(merchant_id="M1", name="Shop", city="Beijing"))
    assert svg.startswith("<svg") and "</svg>" in svg


@pytest.mark.django_db
def test_pay_static_and_dynamic_merchant_qr_and_refund() -> None:
    from rongshu.identity.types import Role
    from tests.identity.builders import make_staff

    payer, shop = make_payer(), make_payer(name="小店", balance=0)
    merchant = services.do_create_merchant(
        merchant_code="M0001",
        name="Corner Shop",
        city="Beijing",
        ledger_account_id=shop.account.public_id,
    )
    assert queries.decode_qr(merchant.static_payload).ours
    paid = services.do_pay_merchant_qr(
        payer.principal,
        payload=merchant.static_payload,
        debit_account_id=payer.account.public_id,
        amount=cny("12.50"),
    )
    assert paid.state == "settled" and paid.rail == "qr" and paid.merchant_name == "Corner Shop"
    # a dynamic code is one the bank issued for the merchant (tests/payments/test_qr_dynamic.py)
    dynamic = services.do_issue_dynamic_qr(
        merchant_code="M0001", amount=cny("3.00"), bill_number="INV9", actor="test"
    ).payload
    paid2 = services.do_pay_merchant_qr(
        payer.principal, payload=dynamic, debit_account_id=payer.account.public_id
    )
    assert paid2.amount == cny("3.00") and paid2.remittance_info == "INV9"
    assert balance(shop.account) == 15_50
    teller = make_staff(Role.TELLER)
    refunded = services.do_refund(teller, paid.order_id, cny("2.50"), reason="退货")
    assert refunded.refunded == cny("2.50")
    assert balance(shop.account) == 13_00
    assert balance(payer.account) == 100_000_00 - 15_50 + 2_50


@pytest.mark.django_db
def test_payment_code_is_single_use_and_expires() -> None:
    payer, shop = make_payer(), make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code="M0002",
        name="Cafe",
        city="Shanghai",
        ledger_account_id=shop.account.public_id,
    )
    code = services.do_issue_payment_code(payer.principal, payer.account.public_id)
    assert len(code.code) == 18 and code.code.startswith("28")
    order = services.do_charge_payment_code(
        merchant_code="M0002", code=code.code, amount=cny("18.00"), actor="partner:test"
    )
    assert order.state == "settled" and balance(shop.account) == 18_00
    with pytest.raises(PaymentCodeInvalid):
        services.do_charge_payment_code(
            merchant_code="M0002", code=code.code, amount=cny("1.00"), actor="partner:test"
        )
    late = services.do_issue_payment_code(payer.principal, payer.account.public_id)
    with (
        clock.frozen_time(late.expires_at + dt.timedelta(seconds=1)),
        pytest.raises(PaymentCodeInvalid),
    ):
        services.do_charge_payment_code(
            merchant_code="M0002", code=late.code, amount=cny("1.00"), actor="partner:test"
        )
    assert balance(shop.account) == 18_00
