"""Payments web pages: transfer (internal, interbank, step-up), history, order, receipt, payees,
merchant QR, payment code, and the staff console pages."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rongshu.identity import services as identity
from rongshu.identity.types import Role
from rongshu.kernel.money import Money
from rongshu.payments import services
from rongshu.payments.models import Payee, PaymentCode, PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.identity.builders import make_staff, staff_client
from tests.payments.conftest import FakeClearing, Payer, balance, give_number, make_payer

pytestmark = pytest.mark.django_db

BANK, OTHER = "102100099996", "6222020000000001"


def web(payer: Payer) -> Client:
    return staff_client(payer.customer.user_id)  # a signed-in web session (any user)


def key_of(html: str) -> str:
    match = re.search(r'name="key" value="(web-[^"]+)"', html)
    assert match is not None
    return match.group(1)


def transfer_form(payer: Payer, client: Client, **fields: str) -> dict[str, str]:
    page = client.get("/me/payments/transfer/").content.decode()
    return {
        "key": key_of(page),
        "debit_account": str(payer.account.public_id),
        "destination": "ours",
        "account_number": "",
        "name": "",
        "bank_code": "",
        "amount": "",
        "remittance_info": "",
        **fields,
    }


def test_anonymous_customers_are_sent_to_sign_in() -> None:
    for path in ("/me/payments/", "/me/payments/transfer/", "/me/payments/qr/"):
        r = Client().get(path)
        assert r.status_code == 302
        assert r["Location"].startswith("/signin/?next=")


def test_internal_transfer_history_order_and_receipt() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000101")
    client = web(payer)
    form = transfer_form(
        payer, client, account_number=number, name="李四", amount="1234.56", remittance_info="房租"
    )
    r = client.post("/me/payments/transfer/", form)
    order = PaymentOrder.objects.get()
    assert r.status_code == 302
    assert r["Location"] == f"/me/payments/{order.public_id}/"
    assert order.state == "settled" and order.channel == "web"
    assert balance(payee.account) == 1234_56
    again = client.post("/me/payments/transfer/", form)  # a double submit: same order
    assert again["Location"] == r["Location"]
    assert PaymentOrder.objects.count() == 1
    assert balance(payee.account) == 1234_56
    history = client.get("/me/payments/").content.decode()
    assert 'data-state="settled"' in history and "李四" in history
    detail = client.get(r["Location"]).content.decode()
    assert 'id="open-receipt"' in detail
    receipt = client.get(f"/me/payments/{order.public_id}/receipt/").content.decode()
    assert "壹仟贰佰叁拾肆元伍角陆分" in receipt
    assert "¥1,234.56" in receipt
    other = web(make_payer(name="王五"))
    assert other.get(f"/me/payments/{order.public_id}/").status_code == 404
    assert other.get(f"/me/payments/{order.public_id}/receipt/").status_code == 404


def test_transfer_refusals_show_in_the_page() -> None:
    payer, payee = make_payer(balance=100_00), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000102")
    client = web(payer)
    r = client.post(
        "/me/payments/transfer/",
        transfer_form(payer, client, account_number=number, name="李四", amount="200.00"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 200
    assert 'id="transfer-error"' in r.content.decode()
    assert "enough available funds" in r.content.decode()
    r = client.post(
        "/me/payments/transfer/",
        transfer_form(payer, client, account_number=number, name="别人", amount="1.00"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "does not match" in r.content.decode()
    r = client.post(
        "/me/payments/transfer/",
        transfer_form(payer, client, account_number=number, name="李四", amount="1.001"),
    )
    assert 'id="transfer-error"' in r.content.decode()
    assert PaymentOrder.objects.count() == 0
    assert balance(payee.account) == 0


def test_a_large_transfer_goes_through_the_step_up_page() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000103")
    client = web(payer)
    form = transfer_form(payer, client, account_number=number, name="李四", amount="6000.00")
    r = client.post("/me/payments/transfer/", form)
    assert r.status_code == 302
    assert r["Location"].startswith("/account/step-up/?action=payment.transfer&next=")
    back = unquote(r["Location"].split("next=", 1)[1])
    assert back == f"/me/payments/transfer/?resume={form['key']}"
    assert PaymentOrder.objects.count() == 0
    client.post(r["Location"], {"step": "send", "action": "payment.transfer", "next": back})
    code = identity.latest_code(payer.customer.phone)
    assert code is not None
    done = client.post(
        r["Location"], {"step": "verify", "action": "payment.transfer", "next": back, "code": code}
    )
    assert done["Location"] == back
    resumed = client.get(back).content.decode()
    assert 'id="transfer-resumed"' in resumed
    assert key_of(resumed) == form["key"] and 'value="6000.00"' in resumed
    r = client.post("/me/payments/transfer/", form)
    order = PaymentOrder.objects.get()
    assert r["Location"] == f"/me/payments/{order.public_id}/"
    assert order.state == "settled" and order.auth_level == "step_up"
    assert balance(payee.account) == 6000_00


def test_interbank_transfer_is_submitted_after_commit_and_settles(
    clearing: FakeClearing,
) -> None:
    payer = make_payer()
    client = web(payer)
    form = transfer_form(
        payer,
        client,
        destination="other",
        bank_code=BANK,
        account_number=OTHER,
        name="李四",
        amount="100.00",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.db.transaction.on_commit", lambda f, *a, **k: f())
        r = client.post("/me/payments/transfer/", form)
    order = PaymentOrder.objects.get()
    assert r["Location"] == f"/me/payments/{order.public_id}/"
    assert order.state == "submitted"
    assert [i.instruction_id for _, i in clearing.submitted] == [order.public_id.hex]
    page = client.get(r["Location"]).content.decode()
    assert 'data-state="submitted"' in page and "hx-trigger" in page
    clearing.push(str(order.public_id), "settled")
    clearing.process_inbound()
    page = client.get(r["Location"]).content.decode()
    assert 'data-state="settled"' in page and "hx-trigger" not in page
    assert balance(payer.account) == 100_000_00 - 100_00


def test_saved_payees_add_refuse_prefill_and_remove() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000104")
    client = web(payer)
    r = client.post("/me/payments/payees/", {"name": "张冠李戴", "account_number": number})
    assert 'id="payee-error"' in r.content.decode()
    assert Payee.objects.count() == 0
    r = client.post(
        "/me/payments/payees/", {"name": "李四", "account_number": number, "nickname": "房东"}
    )
    assert r.status_code == 302
    saved = Payee.objects.get()
    assert saved.verified_at is not None
    assert "房东" in client.get("/me/payments/payees/").content.decode()
    prefilled = client.get(f"/me/payments/transfer/?payee={saved.public_id}").content.decode()
    assert f'value="{number}"' in prefilled
    client.post(f"/me/payments/payees/{saved.public_id}/delete/")
    assert Payee.objects.count() == 0


def _shop() -> tuple[Payer, str]:
    shop = make_payer(name="小店", balance=0)
    merchant = services.do_create_merchant(
        merchant_code="M0100",
        name="Corner Shop",
        city="Beijing",
        ledger_account_id=shop.account.public_id,
    )
    return shop, merchant.static_payload


def test_pay_a_static_merchant_qr_pasted_or_uploaded() -> None:
    payer = make_payer()
    shop, payload = _shop()
    client = web(payer)
    r = client.post("/me/payments/qr/", {"step": "decode", "payload": payload})
    page = r.content.decode()
    assert 'id="qr-merchant-name">Corner Shop<' in page
    assert 'name="amount"' in page  # a static code: the customer enters the amount
    upload = SimpleUploadedFile("qr.txt", payload.encode(), content_type="text/plain")
    r = client.post("/me/payments/qr/", {"step": "decode", "payload_file": upload})
    assert "Corner Shop" in r.content.decode()
    r = client.post(
        "/me/payments/qr/",
        {
            "step": "pay",
            "payload": payload,
            "key": key_of(page),
            "debit_account": str(payer.account.public_id),
            "amount": "12.50",
        },
    )
    order = PaymentOrder.objects.get()
    assert r["Location"] == f"/me/payments/{order.public_id}/"
    assert order.rail == "qr" and order.state == "settled"
    assert balance(shop.account) == 12_50


def test_a_tampered_qr_is_refused() -> None:
    payer = make_payer()
    _, payload = _shop()
    tampered = payload.replace("Corner", "Korner")
    r = web(payer).post("/me/payments/qr/", {"step": "decode", "payload": tampered})
    assert 'id="qr-error"' in r.content.decode()
    assert PaymentOrder.objects.count() == 0


def test_payment_code_page_shows_a_one_time_code_as_svg() -> None:
    payer = make_payer()
    client = web(payer)
    assert client.get("/me/payments/code/").status_code == 200
    r = client.post("/me/payments/code/", {"debit_account": str(payer.account.public_id)})
    page = r.content.decode()
    code = PaymentCode.objects.get()
    assert "<svg" in page and 'id="payment-code"' in page
    assert code.code[:4] + " " + code.code[4:8] in page
    other = make_payer(name="王五")
    r = client.post("/me/payments/code/", {"debit_account": str(other.account.public_id)})
    assert 'id="code-error"' in r.content.decode()
    assert PaymentCode.objects.count() == 1


def test_staff_search_and_order_page_need_payment_view() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    view = services.do_create_payment(
        payer.principal,
        PaymentRequest(
            payer.account.public_id,
            Money.parse("8.00", "CNY"),
            payee_ledger_account_id=payee.account.public_id,
        ),
    )
    r = Client().get("/console/payments/")
    assert r.status_code == 302 and r["Location"].startswith("/console/signin/")
    analyst = staff_client(make_staff(Role.MARKETING_ANALYST).user_id or 0)
    assert analyst.get("/console/payments/").status_code == 403
    teller = staff_client(make_staff(Role.TELLER).user_id or 0)
    assert teller.get("/console/payments/").status_code == 200
    found = teller.get("/console/payments/", {"customer_id": str(payer.customer_id)})
    assert f"/console/payments/{view.order_id}/" in found.content.decode()
    detail = teller.get(f"/console/payments/{view.order_id}/").content.decode()
    assert str(payer.customer_id) in detail and 'data-state="settled"' in detail
    assert teller.get(f"/console/payments/{payer.account.public_id}/").status_code == 404
