"""The staff console's bill QR codes (动态收款码) of a merchant: staff with ``payment.manage``
issue a dynamic QR (its image and text shown, state open), bad input is refused in the page in
the staff member's language and issues nothing, a paid code links to its order, and customers
or staff without the permission are refused."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client

from rongshu.identity.types import Role
from rongshu.kernel import clock
from rongshu.ledger import services as ledger
from rongshu.payments import qr, services
from rongshu.payments.models import DynamicQr
from tests.identity.builders import make_staff, staff_client
from tests.payments.conftest import Payer, make_payer

pytestmark = pytest.mark.django_db

CODE = "MQRWEB1"
PAGE = f"/console/payments/merchants/{CODE}/qr/"
ISSUE = f"{PAGE}issue/"


@pytest.fixture(autouse=True)
def chart() -> None:
    ledger.do_create_chart_of_accounts(("CNY",))  # a transactional test elsewhere may flush it


def _shop() -> Payer:
    shop = make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code=CODE,
        name="Banyan Noodles",
        city="Shenzhen",
        ledger_account_id=shop.account.public_id,
    )
    return shop


def _teller(username: str) -> Client:
    return staff_client(make_staff(Role.TELLER, username=username).user_id)


def _payload(page: str) -> str:
    found = re.search(r'<textarea readonly id="dynamic-qr-payload"[^>]*>([^<]*)</textarea>', page)
    assert found is not None, "the payload is shown to copy"
    return html.unescape(found.group(1))


def test_staff_issue_a_bill_qr_code_and_see_it_paid() -> None:
    _shop()
    payer = make_payer()
    console = _teller("dq-teller")
    empty = console.get(PAGE).content.decode()
    assert "动态收款码" in empty and 'id="dynamic-qr-form"' in empty
    assert 'name="minutes"' in empty and 'value="15"' in empty  # 15 minutes by default

    before = clock.now()
    answer = console.post(ISSUE, {"amount": "38.00", "bill_number": "INV-2024-7", "minutes": "30"})
    issued = DynamicQr.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"{PAGE}?qr={issued.public_id}"
    assert (issued.amount_minor, issued.currency) == (38_00, "CNY")
    assert issued.bill_number == "INV-2024-7"
    assert dt.timedelta(minutes=29) < issued.expires_at - before <= dt.timedelta(minutes=31)
    assert issued.created_by.startswith("staff:")

    page = console.get(answer["Location"]).content.decode()
    assert "INV-2024-7" in page and issued.reference in page
    assert 'id="dynamic-qr-image"' in page and "<svg" in page
    payload = _payload(page)
    decoded = qr.decode(payload)
    assert decoded.is_dynamic and decoded.reference == issued.reference
    assert decoded.amount == "38.00" and decoded.rongshu_merchant_id == CODE
    assert f'data-reference="{issued.reference}" data-state="open"' in page
    assert "待支付" in page  # the state in the staff member's language

    english = console.get(answer["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Bill QR codes" in english and ">Open<" in english

    order = services.do_pay_merchant_qr(
        payer.principal,
        payload=payload,
        debit_account_id=payer.account.public_id,
        amount=None,
        idempotency_key="dq-web-1",
    )
    paid = console.get(PAGE).content.decode()
    assert f'data-reference="{issued.reference}" data-state="paid"' in paid
    assert f'href="/console/payments/{order.order_id}/"' in paid
    assert "已支付" in paid
    shown = console.get(answer["Location"]).content.decode()
    assert 'id="dynamic-qr-image"' not in shown  # a paid code's image is not shown again


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount": ""}, "请输入金额"),
        ({"amount": "abc"}, "请按元输入金额"),
        ({"amount": "12.345"}, "请按元输入金额"),
        ({"amount": "0"}, "金额必须大于零"),
        ({"amount": "-5.00"}, "金额必须大于零"),
        ({"bill_number": "账单一"}, "账单号为 1 至 25 个字符"),
        ({"bill_number": "X" * 26}, "账单号为 1 至 25 个字符"),
        ({"minutes": "0"}, "有效期为 1 至 1440 分钟"),
        ({"minutes": "1441"}, "有效期为 1 至 1440 分钟"),
        ({"minutes": "ten"}, "有效期为 1 至 1440 分钟"),
    ],
)
def test_bad_input_is_refused_in_the_page_and_issues_nothing(
    form: dict[str, str], message: str
) -> None:
    _shop()
    console = _teller("dq-bad-teller")
    fields = {"amount": "10.00", "bill_number": "B-1", "minutes": "15", **form}
    answer = console.post(ISSUE, fields)
    page = answer.content.decode()
    assert answer.status_code == 400
    assert 'id="dynamic-qr-error"' in page and message in page
    assert f'value="{html.escape(fields["bill_number"])}"' in page  # the form keeps its input
    assert DynamicQr.objects.count() == 0


def test_bad_input_reads_in_english_too() -> None:
    _shop()
    console = _teller("dq-en-teller")
    answer = console.post(
        ISSUE, {"amount": "0", "bill_number": "", "minutes": "15"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400
    assert "The amount must be greater than zero." in answer.content.decode()
    assert DynamicQr.objects.count() == 0


def test_customers_and_staff_without_the_permission_are_refused() -> None:
    _shop()
    payer = make_payer()
    customer = staff_client(payer.customer.user_id)  # a signed-in customer web session
    for client in (customer, Client()):
        for answer in (client.get(PAGE), client.post(ISSUE, {"amount": "10.00"})):
            assert answer.status_code == 302
            assert answer["Location"].startswith("/console/signin/")
    viewer = staff_client(make_staff(Role.RELATIONSHIP_MANAGER, username="dq-rm").user_id)
    assert viewer.get(PAGE).status_code == 200  # payment.view may look
    assert viewer.post(ISSUE, {"amount": "10.00"}).status_code == 403  # not issue
    analyst = staff_client(make_staff(Role.MARKETING_ANALYST, username="dq-ma").user_id)
    assert analyst.get(PAGE).status_code == 403
    assert DynamicQr.objects.count() == 0


def test_unknown_merchant_and_the_lookup_from_the_payment_search() -> None:
    _shop()
    console = _teller("dq-lookup-teller")
    assert console.get("/console/payments/merchants/NOPE/qr/").status_code == 404
    assert console.post("/console/payments/merchants/NOPE/qr/issue/").status_code == 404
    assert 'id="merchant-lookup"' in console.get("/console/payments/").content.decode()
    found = console.get("/console/payments/merchants/", {"merchant_code": CODE})
    assert found.status_code == 302 and found["Location"] == PAGE
    missing = console.get("/console/payments/merchants/", {"merchant_code": "NOPE"}, follow=True)
    assert missing.redirect_chain[-1][0] == "/console/payments/"
    assert "没有此编号的商户" in missing.content.decode()


def test_an_open_code_past_its_expiry_reads_expired() -> None:
    _shop()
    console = _teller("dq-expiry-teller")
    answer = console.post(ISSUE, {"amount": "5.00", "bill_number": "", "minutes": "1"})
    issued = DynamicQr.objects.get()
    assert answer.status_code == 302 and issued.bill_number == ""
    with clock.frozen_time(issued.expires_at + dt.timedelta(seconds=1)):
        page = console.get(answer["Location"]).content.decode()
    assert f'data-reference="{issued.reference}" data-state="expired"' in page
    assert "已过期" in page and 'id="dynamic-qr-image"' not in page
    assert DynamicQr.objects.get().state == "open"  # stored by the end-of-day job, not here
