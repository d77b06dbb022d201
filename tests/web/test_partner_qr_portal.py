"""The partner portal's bill QR codes (/partners/qr/): a merchant's partner client signs in
with its client id and secret (the page keeps the access token in the browser session), needs
the ``payments`` scope, sees its own merchants, issues a bill QR code (a dynamic QR) for one
of them (its image and text shown) and follows its latest codes with their state. Bad input and
other partners' merchants are refused in the page, in the user's language, and issue nothing."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.test import Client

from rongshu.identity.types import PartnerScope
from rongshu.kernel import clock
from rongshu.ledger import services as ledger
from rongshu.payments import qr, services
from rongshu.payments.models import DynamicQr
from tests.identity.builders import make_partner
from tests.payments.conftest import Payer, cny, make_payer

pytestmark = pytest.mark.django_db

URL = "/partners/qr/"
MINE, MINE_TOO, THEIRS = "MPQR1", "MPQR2", "MPQR9"


@pytest.fixture(autouse=True)
def chart() -> None:
    ledger.do_create_chart_of_accounts(("CNY",))  # a transactional test elsewhere may flush it


def _shop(code: str, name: str, partner_client_id: str) -> Payer:
    shop = make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code=code,
        name=name,
        city="Shenzhen",
        ledger_account_id=shop.account.public_id,
        partner_client_id=partner_client_id,
    )
    return shop


def _signed_in(scopes: list[str] | None = None) -> tuple[Client, str]:
    creds = make_partner(scopes if scopes is not None else [PartnerScope.PAYMENTS.value])
    client = Client()
    signin = client.post(
        URL,
        {"action": "signin", "client_id": creds.client_id, "client_secret": creds.client_secret},
    )
    assert signin.status_code == 302 and signin["Location"] == URL
    return client, creds.client_id


def _world() -> tuple[Client, str]:
    """A partner with two merchants, and another partner's merchant."""
    client, client_id = _signed_in()
    _shop(MINE, "Banyan Noodles", client_id)
    _shop(MINE_TOO, "Banyan Dumplings", client_id)
    _shop(THEIRS, "Other Bakery", make_partner([PartnerScope.PAYMENTS.value]).client_id)
    return client, client_id


def _issue(client: Client, **fields: str) -> Any:
    data = {
        "action": "issue",
        "merchant_code": MINE,
        "amount": "38.00",
        "bill_number": "INV-7",
        "minutes": "30",
        **fields,
    }
    return client.post(URL, data)


def _payload(page: str) -> str:
    found = re.search(r'<textarea readonly id="dynamic-qr-payload"[^>]*>([^<]*)</textarea>', page)
    assert found is not None, "the payload is shown to copy"
    return html.unescape(found.group(1))


def test_sign_in_is_required() -> None:
    client, _ = _world()
    anonymous = Client()
    page = anonymous.get(URL)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="client_secret"' in body and "Banyan Noodles" not in body
    refused = anonymous.post(URL, {"action": "issue", "merchant_code": MINE, "amount": "9.00"})
    assert 'name="client_secret"' in refused.content.decode()
    assert DynamicQr.objects.count() == 0

    signed_out = client.post(URL, {"action": "signout"})
    assert signed_out.status_code == 302
    assert 'name="client_secret"' in client.get(URL).content.decode()
    _issue(client)
    assert DynamicQr.objects.count() == 0


def test_a_wrong_secret_is_refused_with_401() -> None:
    creds = make_partner([PartnerScope.PAYMENTS.value])
    client = Client()
    answer = client.post(
        URL, {"action": "signin", "client_id": creds.client_id, "client_secret": "rss_wrong"}
    )
    assert answer.status_code == 401
    assert "客户端凭证不正确" in answer.content.decode()
    assert 'name="client_secret"' in client.get(URL).content.decode()  # still signed out


def test_a_partner_without_the_payments_scope_is_refused_with_403() -> None:
    client, client_id = _signed_in([PartnerScope.LIFEPAY.value])
    _shop(MINE, "Banyan Noodles", client_id)
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    body = page.content.decode()
    assert "The client is not granted the scope this operation needs." in body
    assert "Banyan Noodles" not in body
    assert _issue(client).status_code == 403
    assert DynamicQr.objects.count() == 0


def test_issue_a_bill_qr_code_for_an_own_merchant() -> None:
    client, client_id = _world()
    page = client.get(URL).content.decode()
    assert 'id="dynamic-qr-form"' in page and 'value="15"' in page  # 15 minutes by default
    select = re.search(r'<select name="merchant_code"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select is not None
    merchants = re.findall(r'<option value="([^"]+)"', select.group(1))
    assert merchants == [MINE, MINE_TOO]  # its own merchants only, by code
    assert "Other Bakery" not in page

    before = clock.now()
    answer = _issue(client, merchant_code=MINE_TOO)
    issued = DynamicQr.objects.select_related("merchant").get()
    assert answer.status_code == 302
    assert answer["Location"] == f"{URL}?qr={issued.public_id}"
    assert issued.merchant.merchant_code == MINE_TOO
    assert (issued.amount_minor, issued.currency, issued.bill_number) == (38_00, "CNY", "INV-7")
    assert dt.timedelta(minutes=29) < issued.expires_at - before <= dt.timedelta(minutes=31)
    assert issued.created_by == f"partner:{client_id}"

    shown = client.get(f"{URL}?qr={issued.public_id}", HTTP_ACCEPT_LANGUAGE="en")
    body = shown.content.decode()
    assert shown.status_code == 200
    assert 'id="dynamic-qr-image"' in body and "<svg" in body
    decoded = qr.decode(_payload(body))
    assert decoded.is_dynamic and decoded.reference == issued.reference
    assert (decoded.amount, decoded.rongshu_merchant_id) == ("38.00", MINE_TOO)
    assert "INV-7" in body and "38.00" in body and "Banyan Dumplings" in body
    local = issued.expires_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M") in body  # valid until, in the bank's time zone
    assert f'data-reference="{issued.reference}" data-state="open"' in body
    assert ">Open<" in body


@pytest.mark.parametrize("merchant_code", [THEIRS, "NOPE", ""])
def test_another_partners_or_an_unknown_merchant_is_refused(merchant_code: str) -> None:
    client, _ = _world()
    answer = client.post(
        URL,
        {"action": "issue", "merchant_code": merchant_code, "amount": "10.00", "minutes": "15"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    body = answer.content.decode()
    assert answer.status_code == 400
    assert 'id="dynamic-qr-error"' in body and "Choose one of your merchants." in body
    assert DynamicQr.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": ""}, "请输入金额"),
        ({"amount": "abc"}, "请按元输入金额"),
        ({"amount": "12.345"}, "请按元输入金额"),
        ({"amount": "0"}, "金额必须大于零"),
        ({"amount": "-5.00"}, "金额必须大于零"),
        ({"bill_number": "账单一"}, "账单号为 1 至 25 个字符"),
        ({"minutes": "0"}, "有效期为 1 至 1440 分钟"),
        ({"minutes": "1441"}, "有效期为 1 至 1440 分钟"),
        ({"minutes": "ten"}, "有效期为 1 至 1440 分钟"),
    ],
)
def test_bad_input_is_shown_and_nothing_is_stored(fields: dict[str, str], message: str) -> None:
    client, _ = _world()
    answer = _issue(client, **fields)
    body = answer.content.decode()
    assert answer.status_code == 400
    assert 'id="dynamic-qr-error"' in body and message in body
    kept = html.escape(fields.get("bill_number", "INV-7"))
    assert f'value="{kept}"' in body  # the form keeps its input
    assert DynamicQr.objects.count() == 0


def test_bad_amount_reads_in_english_too() -> None:
    client, _ = _world()
    answer = client.post(
        URL,
        {"action": "issue", "merchant_code": MINE, "amount": "-1.00", "minutes": "15"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "The amount must be greater than zero." in answer.content.decode()
    assert DynamicQr.objects.count() == 0


def test_the_list_shows_the_partners_codes_and_a_paid_one_as_paid() -> None:
    client, _ = _world()
    payer = make_payer()
    assert _issue(client, bill_number="PAY-ME").status_code == 302
    # valid one minute, so that past it the page's access token (15 minutes) still holds
    later_answer = _issue(client, bill_number="LATER", merchant_code=MINE_TOO, minutes="1")
    assert later_answer.status_code == 302
    paid, later = (DynamicQr.objects.get(bill_number=b) for b in ("PAY-ME", "LATER"))
    theirs = services.do_issue_dynamic_qr(
        merchant_code=THEIRS, amount=cny("5.00"), bill_number="NOT-YOURS", actor="test:other"
    )
    shown = client.get(f"{URL}?qr={paid.public_id}").content.decode()
    order = services.do_pay_merchant_qr(
        payer.principal,
        payload=_payload(shown),  # what the customer scans
        debit_account_id=payer.account.public_id,
        amount=None,
        idempotency_key="partner-qr-web-1",
    )
    assert order.state == "settled"

    page = client.get(URL).content.decode()
    assert f'data-reference="{paid.reference}" data-state="paid"' in page
    assert f'data-reference="{later.reference}" data-state="open"' in page
    assert "已支付" in page and "待支付" in page
    assert theirs.reference not in page and "NOT-YOURS" not in page
    assert page.index(later.reference) < page.index(paid.reference)  # newest first

    # another partner's code is not shown by its id either
    other = client.get(f"{URL}?qr={theirs.qr_id}").content.decode()
    assert 'id="dynamic-qr-shown"' not in other and theirs.reference not in other
    # a paid code's image is not shown again
    again = client.get(f"{URL}?qr={paid.public_id}").content.decode()
    assert 'id="dynamic-qr-shown"' in again and 'id="dynamic-qr-image"' not in again

    with clock.frozen_time(later.expires_at + dt.timedelta(seconds=1)):
        expired = client.get(URL).content.decode()
    assert f'data-reference="{later.reference}" data-state="expired"' in expired
    assert "已过期" in expired


def test_the_chinese_page_reads_in_chinese_and_the_english_in_english() -> None:
    client, _ = _world()
    chinese = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    for text in ("商户动态收款码", "我的商户", "生成动态收款码", "最近的动态收款码", "退出"):
        assert text in chinese, text
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ("Merchant bill QR codes", "My merchants", "Issue a bill QR code", "Sign out"):
        assert text in english, text
    signin = Client().get(URL, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "客户端密钥" in signin and "商户动态收款码" in signin


def test_the_partner_portal_home_links_the_page() -> None:
    home = Client().get("/partners/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{URL}"' in home
