"""Customer pages: home, open flow, detail with statement, CSV, messages; the staff Type I page."""

from __future__ import annotations

import pytest
from django.test import Client

from rongshu.accounts.models import CustomerAccount
from rongshu.identity.types import Role
from tests.accounts.builders import customer, deposit, external_type1
from tests.identity.builders import make_staff, staff_client

pytestmark = pytest.mark.django_db


def test_customer_pages() -> None:
    c = customer("陈晨")
    assert c.fixture.user_id
    client = staff_client(c.fixture.user_id)  # a signed-in web session (any user)
    assert client.get("/me/").status_code == 200
    assert 'id="my-accounts"' in client.get("/").content.decode()
    r = client.post(
        "/me/open/",
        {"account_type": "2", "bind_bank_code": "105", "bind_account_number": "123"},
    )
    assert "open-error" in r.content.decode()
    number = external_type1("陈晨")
    r = client.post(
        "/me/open/",
        {"account_type": "2", "bind_bank_code": "105", "bind_account_number": number},
    )
    account = CustomerAccount.objects.get()
    assert r.status_code == 302
    assert r["Location"] == f"/me/accounts/{account.public_id}/"
    deposit(account, 66_00, reference="奖金")
    home = client.get("/me/").content.decode()
    assert "¥66.00" in home
    assert account.account_number[-4:] in home
    detail = client.get(f"/me/accounts/{account.public_id}/").content.decode()
    assert "奖金" in detail
    csv = client.get(f"/me/accounts/{account.public_id}/statement.csv")
    assert "奖金" in b"".join(csv.streaming_content).decode("utf-8-sig")
    messages = client.get("/me/messages/").content.decode()
    assert "+66.00 CNY" in messages
    r = client.post(f"/me/accounts/{account.public_id}/unfreeze/")
    assert r.status_code == 302  # not frozen: a message, back to the account
    client.post(f"/me/accounts/{account.public_id}/freeze/")
    r = client.post(f"/me/accounts/{account.public_id}/unfreeze/")
    assert r["Location"].startswith("/account/step-up/?action=accounts.unfreeze")
    other = customer("别人")
    assert other.fixture.user_id
    r = staff_client(other.fixture.user_id).get(f"/me/accounts/{account.public_id}/")
    assert r.status_code == 404


def test_anonymous_is_sent_to_sign_in(client: Client) -> None:
    r = client.get("/me/")
    assert r.status_code == 302
    assert r["Location"].startswith("/signin/")


def test_staff_type1_page() -> None:
    c = customer("林林")
    teller = make_staff(Role.TELLER, username="type1-teller")
    assert teller.user_id
    page = staff_client(teller.user_id)
    r = page.post(
        "/console/accounts/type1/",
        {
            "customer_id": c.fixture.customer_id,
            "verification_note": "身份证原件",
            "in_person": "yes",
        },
    )
    assert 'id="opened"' in r.content.decode()
    assert CustomerAccount.objects.get().account_type == 1
    analyst = make_staff(Role.MARKETING_ANALYST, username="type1-analyst")
    assert analyst.user_id
    assert staff_client(analyst.user_id).get("/console/accounts/type1/").status_code == 403
