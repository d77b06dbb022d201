"""Inquire → pay with a two-phase hold → receipt; bad input; idempotency."""

from __future__ import annotations

from typing import Any

import pytest

from rongshu.kernel.money import Money
from rongshu.ledger.models import Account
from rongshu.lifepay import catalogue, queries, services
from rongshu.lifepay.errors import (
    AccountNumberInvalid,
    AfterCutoff,
    AmountMismatch,
    BillerUnknown,
    KeyReused,
)
from rongshu.lifepay.models import Biller, BillPayment
from rongshu.lifepay.types import PayBillRequest
from tests.lifepay.conftest import account_for, biller, payer
from tests.payments.conftest import balance

pytestmark = pytest.mark.usefixtures("lifepay_world")


def test_catalogue_covers_300_cities_with_40_items() -> None:
    cities, items_min = queries.catalogue_stats()
    assert cities >= 300
    assert items_min >= 40
    assert len(catalogue.ITEMS) >= 40
    assert Biller.objects.get(code="110100-water").name_zh == "北京市水费"
    assert Biller.objects.get(code="440300-water").name_en == "Shenzhen Water"


def test_account_formats_validate() -> None:
    for item in catalogue.ITEMS:
        number = catalogue.sample_account(item.account_format, 3)
        assert catalogue.is_valid_account(item.account_format, number), (item, number)
    assert not catalogue.is_valid_account("luhn10", "1234567890")
    assert not catalogue.is_valid_account("mobile", "12345")
    assert not catalogue.is_valid_account("resident_id", "110101199003070000")


def test_inquire_pay_and_receipt() -> None:
    who = payer()
    b = biller()
    number = account_for(b)
    inquiry = services.do_inquire(who.principal, b.code, number)
    assert inquiry.bills
    bill = inquiry.bills[0]
    before = balance(who.account)
    view = services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, number, who.account.public_id, bill.amount, bill.bill_ref),
        idempotency_key="k1",
    )
    assert view.state == "paid"
    assert balance(who.account) == before - bill.amount.minor
    again = services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, number, who.account.public_id, bill.amount, bill.bill_ref),
        idempotency_key="k1",
    )
    assert again.payment_id == view.payment_id
    assert balance(who.account) == before - bill.amount.minor
    b.refresh_from_db()
    clearing = Account.objects.get(public_id=b.clearing_account_id)
    assert clearing.credits_posted == bill.amount.minor
    assert queries.get_payment(who.principal, view.payment_id).biller_ref
    after = services.do_inquire(who.principal, b.code, number)
    assert bill.bill_ref not in [x.bill_ref for x in after.bills]


def test_bad_input_moves_no_money() -> None:
    who = payer()
    b = biller()
    number = account_for(b)
    bill = services.do_inquire(who.principal, b.code, number).bills[0]
    before = balance(who.account)
    with pytest.raises(AccountNumberInvalid):
        services.do_inquire(who.principal, b.code, "12345")
    with pytest.raises(BillerUnknown):
        services.do_inquire(who.principal, "999999-water", number)
    short = Money(bill.amount.minor - 1, "CNY")
    with pytest.raises(AmountMismatch):
        services.do_pay_bill(
            who.principal,
            PayBillRequest(b.code, number, who.account.public_id, short, bill.bill_ref),
            idempotency_key="k2",
        )
    services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, number, who.account.public_id, bill.amount, bill.bill_ref),
        idempotency_key="k3",
    )
    with pytest.raises(KeyReused):
        services.do_pay_bill(
            who.principal,
            PayBillRequest(b.code, number, who.account.public_id, short, bill.bill_ref),
            idempotency_key="k3",
        )
    assert balance(who.account) == before - bill.amount.minor
    assert BillPayment.objects.count() == 1


def test_after_cutoff_is_refused(settings: Any) -> None:
    import datetime as dt

    from rongshu.kernel import clock

    who = payer()
    b = biller()
    number = account_for(b)
    bill = services.do_inquire(who.principal, b.code, number).bills[0]
    late = dt.datetime(2026, 11, 10, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai
    with clock.frozen_time(late), pytest.raises(AfterCutoff):
        services.do_pay_bill(
            who.principal,
            PayBillRequest(b.code, number, who.account.public_id, bill.amount, bill.bill_ref),
            idempotency_key="late",
        )
    assert BillPayment.objects.count() == 0


def test_prepaid_top_up_any_amount() -> None:
    who = payer()
    b = biller(item="mobile_cm")
    view = services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, "13800138000", who.account.public_id, Money(50_00, "CNY")),
        idempotency_key="top",
    )
    assert view.state == "paid"
    assert view.amount.minor == 50_00


def test_mandate_journey_on_the_web() -> None:
    """Save a bill account, set up auto-pay with a limit, pause, resume and cancel it."""
    import datetime as dt

    from rongshu.lifepay.models import Mandate, SavedBillAccount
    from tests.identity.builders import staff_client

    who = payer()
    client = staff_client(who.customer.user_id)  # a signed-in web session
    cid = who.principal.customer_id
    b = biller()
    number = account_for(b, 3)
    assert client.get("/me/lifepay/manage/").status_code == 200
    client.post("/me/lifepay/manage/", {"action": "save", "biller": b.code, "account_no": number})
    assert SavedBillAccount.objects.filter(customer_id=cid).count() == 1
    form = {
        "action": "mandate",
        "biller": b.code,
        "account_no": "12",
        "debit_account": str(who.account.public_id),
        "limit": "500.00",
    }
    assert client.post("/me/lifepay/manage/", form).status_code == 422
    client.post("/me/lifepay/manage/", {**form, "account_no": number})
    mandate = Mandate.objects.get(customer_id=cid)
    assert mandate.limit_minor == 500_00
    client.post("/me/lifepay/manage/", {"action": "pause", "id": str(mandate.public_id)})
    mandate.refresh_from_db()
    assert mandate.paused
    assert services.do_run_autopay(dt.date(2026, 11, mandate.due_day)) == {}  # paused: skipped
    client.post("/me/lifepay/manage/", {"action": "resume", "id": str(mandate.public_id)})
    client.post("/me/lifepay/manage/", {"action": "cancel", "id": str(mandate.public_id)})
    mandate.refresh_from_db()
    assert not mandate.active
    assert "data-mandate" not in client.get("/me/lifepay/manage/").content.decode()
