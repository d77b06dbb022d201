"""The biller portal for partners (/partners/lifepay/) and staff approval on the lifepay
console: applications are pending (invisible to customers, not payable) until approved."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rongshu.identity.types import Role
from rongshu.lifepay import queries, services
from rongshu.lifepay.errors import BillerUnknown
from rongshu.lifepay.models import Biller
from rongshu.lifepay.types import PayBillRequest
from tests.identity.builders import make_partner, make_staff, staff_client
from tests.lifepay.conftest import account_for, payer

pytestmark = pytest.mark.usefixtures("lifepay_world")
URL = "/partners/lifepay/"


def _signed_in(scopes: list[str]) -> tuple[Client, str]:
    creds = make_partner(scopes)
    client = Client()
    signin = client.post(
        URL,
        {"action": "signin", "client_id": creds.client_id, "client_secret": creds.client_secret},
    )
    assert signin.status_code == 302
    return client, creds.client_id


def _apply(client: Client, **fields: Any) -> Any:
    data = {"action": "onboard", "city_code": "440300", "item_code": "water", **fields}
    return client.post(URL, data, HTTP_ACCEPT_LANGUAGE="en")


def test_partner_without_the_lifepay_scope_is_refused() -> None:
    client, _ = _signed_in(["profile"])
    assert client.get(URL).status_code == 403
    assert _apply(client).status_code == 403
    assert not Biller.objects.filter(status=Biller.PENDING).exists()


def test_anonymous_sees_the_sign_in_form_and_bad_credentials_are_refused() -> None:
    assert 'name="client_secret"' in Client().get(URL).content.decode()
    bad = Client().post(URL, {"action": "signin", "client_id": "x", "client_secret": "y"})
    assert bad.status_code == 401


def test_apply_approve_and_pay() -> None:
    client, client_id = _signed_in(["lifepay"])
    response = _apply(client, fee="1.50", account_format="digits10", name_zh="深圳新水务")
    assert response.status_code == 302
    biller = Biller.objects.select_related("city", "item").get(partner_client_id=client_id)
    assert (biller.status, biller.fee_minor, biller.account_format) == (
        "pending",
        150,
        "digits10",
    )
    assert biller.code not in {b.code for b in queries.list_billers("440300")}
    who = payer()
    number = account_for(biller)
    with pytest.raises(BillerUnknown):
        services.do_inquire(who.principal, biller.code, number)
    page = client.get(URL).content.decode()
    assert (
        biller.code in page
        and "Waiting for approval" in client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )

    manager = make_staff(Role.BRANCH_MANAGER)
    assert manager.user_id is not None
    staff = staff_client(manager.user_id)
    console = staff.get("/console/lifepay/").content.decode()
    assert biller.code in console
    approved = staff.post(
        f"/console/lifepay/billers/{biller.code}/review/", {"decision": "approve"}
    )
    assert approved.status_code == 302
    biller.refresh_from_db()
    assert biller.status == "active" and biller.clearing_account_id is not None
    assert biller.code in {b.code for b in queries.list_billers("440300")}
    inquiry = services.do_inquire(who.principal, biller.code, number)
    bill = inquiry.bills[0]
    paid = services.do_pay_bill(
        who.principal,
        PayBillRequest(biller.code, number, who.account.public_id, bill.amount, bill.bill_ref),
        idempotency_key="partner-1",
    )
    assert paid.state == "paid" and paid.fee.minor == 150
    again = staff.post(f"/console/lifepay/billers/{biller.code}/review/", {"decision": "reject"})
    assert again.status_code == 400
    (row,) = queries.partner_billers(client_id)
    assert row.payments == 1 and row.success_rate == 1.0 and row.latency_p50_ms is not None


def test_staff_without_payment_manage_cannot_approve_and_rejection_is_final() -> None:
    client, client_id = _signed_in(["lifepay"])
    assert _apply(client).status_code == 302
    code = Biller.objects.get(partner_client_id=client_id).code
    auditor = make_staff(Role.AUDITOR)
    assert auditor.user_id is not None
    denied = staff_client(auditor.user_id).post(
        f"/console/lifepay/billers/{code}/review/", {"decision": "approve"}
    )
    assert denied.status_code == 403
    manager = make_staff(Role.BRANCH_MANAGER)
    assert manager.user_id is not None
    staff_client(manager.user_id).post(
        f"/console/lifepay/billers/{code}/review/", {"decision": "reject"}
    )
    assert Biller.objects.get(code=code).status == "rejected"
    assert code not in {b.code for b in queries.list_billers("440300")}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"city_code": "999999"}, "This city is not in the catalogue."),
        ({"item_code": "unicorn_rides"}, "This payment item is not in the catalogue."),
        ({"fee": "abc"}, "The fee must be an amount between 0.00 and 100.00."),
        ({"fee": "-1.00"}, "The fee must be an amount between 0.00 and 100.00."),
        ({"fee": "100.01"}, "The fee must be an amount between 0.00 and 100.00."),
        ({"account_format": "morse"}, "This account-number format is not known."),
    ],
)
def test_bad_input_is_shown_and_nothing_is_written(fields: dict[str, str], message: str) -> None:
    client, _ = _signed_in(["lifepay"])
    before = Biller.objects.count()
    response = _apply(client, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Biller.objects.count() == before


def test_duplicate_application_is_refused() -> None:
    client, _ = _signed_in(["lifepay"])
    assert _apply(client).status_code == 302
    before = Biller.objects.count()
    response = _apply(client)
    assert response.status_code == 400
    assert "already registered" in response.content.decode()
    assert Biller.objects.count() == before
