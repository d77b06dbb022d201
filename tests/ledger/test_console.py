"""Staff console pages for the ledger."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from rongshu.ledger import services
from rongshu.ledger.types import TransferIn
from tests.identity.builders import make_staff, staff_client
from tests.ledger.conftest import make_account, make_bank_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    return staff_client(make_staff("teller").user_id)


def test_pages_need_staff_with_ledger_view() -> None:
    response = Client().get("/console/ledger/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/signin/?next=/console/ledger/")
    analyst = staff_client(make_staff("marketing_analyst").user_id)
    assert analyst.get("/console/ledger/").status_code == 403


def test_account_page_shows_statement_and_holds(staff: Client) -> None:
    bank, a = make_bank_account(), make_account(name="李娜 活期")
    services.do_create_transfers(
        [
            TransferIn(
                uuid.uuid4(),
                bank.public_id,
                a.public_id,
                12_345,
                "CNY",
                "deposit",
                reference="柜台存现",
            ),
            TransferIn(
                uuid.uuid4(), a.public_id, bank.public_id, 1_000, "CNY", "hold", kind="pending"
            ),
        ]
    )
    response = staff.get(f"/console/ledger/accounts/{a.public_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "李娜 活期" in html
    assert "123.45 CNY" in html  # balance
    assert "113.45 CNY" in html  # available: less the hold
    assert "柜台存现" in html
    assert "statement?format=csv" in html
    assert staff.get(f"/console/ledger/accounts/{uuid.uuid4()}/").status_code == 404


def test_home_search_and_trial_balance(staff: Client) -> None:
    services.do_create_chart_of_accounts()
    response = staff.get("/console/ledger/?q=cash.CNY")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/ledger/accounts/")
    assert staff.get("/console/ledger/").status_code == 200
    page = staff.get("/console/ledger/trial-balance/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "The books balance" in page.content.decode()
