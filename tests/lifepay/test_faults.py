"""Fault injection: timeout after debit, duplicate confirmation, false failure, missing and
mismatched file rows, biller down during auto-pay → nobody charged twice, nothing lost, every
break resolved."""

from __future__ import annotations

import datetime as dt

import pytest

from rongshu.accounts.models import Notification
from rongshu.identity.types import Role
from rongshu.kernel import clock
from rongshu.kernel.money import Money
from rongshu.kernel.outbox import dispatch_pending
from rongshu.lifepay import queries, services
from rongshu.lifepay.models import BillPayment, Break, Mandate, Notice, SimReceipt
from rongshu.lifepay.simulator import do_set_biller_down, simulator_overrides
from rongshu.lifepay.types import PayBillRequest
from tests.identity.builders import make_staff, staff_client
from tests.lifepay.conftest import account_for, biller, payer
from tests.payments.conftest import available, balance

pytestmark = pytest.mark.usefixtures("lifepay_world")


def _pay(who, b, number, key):  # type: ignore[no-untyped-def]
    bill = services.inquire(b.code, number).bills[0]
    return services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, number, who.account.public_id, bill.amount, bill.bill_ref),
        idempotency_key=key,
    ), bill


def test_timeout_after_debit_keeps_hold_then_requery_posts_once() -> None:
    who, b = payer(), biller()
    number = account_for(b)
    start = balance(who.account)
    with simulator_overrides(timeout_rate=1.0, duplicate_rate=1.0):
        view, bill = _pay(who, b, number, "t1")
    assert view.state == "unknown"
    assert available(who.account) == start - bill.amount.minor  # held, not yet posted
    assert balance(who.account) == start
    assert services.do_requery(view.payment_id) == "paid"
    assert services.do_process_callbacks() == {"duplicate": 2}
    assert balance(who.account) == start - bill.amount.minor
    assert BillPayment.objects.get(public_id=view.payment_id).confirmations == 3


def test_lost_payment_is_voided_customer_keeps_money() -> None:
    who, b = payer(), biller()
    number = account_for(b)
    start = balance(who.account)
    with simulator_overrides(lost_rate=1.0):
        view, _bill = _pay(who, b, number, "t2")
    assert view.state == "unknown"
    assert services.do_requery(view.payment_id) == "failed"
    assert available(who.account) == start
    assert not SimReceipt.objects.exists()


def test_reconciliation_breaks_are_resolved() -> None:
    day = clock.get_business_date()
    who, b = payer(), biller()
    with simulator_overrides(false_failure_rate=1.0):
        failed, _ = _pay(who, b, account_for(b, 1), "f1")
    assert failed.state == "failed"
    with simulator_overrides(missing_rate=1.0):
        missing, _ = _pay(who, b, account_for(b, 2), "m1")
        services.do_reconcile(b.code, day)
    kinds = sorted(Break.objects.values_list("kind", flat=True))
    assert kinds == ["ours_only", "theirs_only"]
    assert services.do_auto_resolve_breaks("staff:test") == 2
    assert queries.count_open_breaks() == 0
    assert SimReceipt.objects.get(our_ref=str(failed.payment_id)).reversed
    assert SimReceipt.objects.filter(our_ref=str(missing.payment_id), reversed=False).exists()
    settled = services.do_settle(day)
    assert len(settled) == 1 and settled[0].count == 1


def test_the_console_names_break_kinds_in_the_staff_language() -> None:
    day = clock.get_business_date()
    who, b = payer(), biller()
    with simulator_overrides(missing_rate=1.0):
        _pay(who, b, account_for(b, 2), "m2")
        services.do_reconcile(b.code, day)
    staff = staff_client(make_staff(Role.BRANCH_MANAGER).user_id)
    page = staff.get("/console/lifepay/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-kind="ours_only"' in page and "ours_only</td>" not in page
    assert "已扣款，缴费机构对账文件中缺失" in page and "待处理" in page
    english = staff.get("/console/lifepay/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Paid with us, missing from the biller&#x27;s file" in english


def test_amount_mismatch_refund() -> None:
    day = clock.get_business_date()
    who, b = payer(), biller()
    start = balance(who.account)
    with simulator_overrides(mismatch_rate=1.0):
        _view, bill = _pay(who, b, account_for(b, 5), "mm")
        services.do_reconcile(b.code, day)
    brk = Break.objects.get()
    assert brk.kind == "amount_mismatch" and brk.ours_minor - brk.theirs_minor == 1_00
    services.do_resolve_break("staff:test", brk.public_id, "refund")
    assert balance(who.account) == start - bill.amount.minor + 1_00
    assert Notice.objects.filter(kind="refund").count() == 1


def test_autopay_retries_when_biller_down_and_never_pays_twice() -> None:
    who, b = payer(), biller()
    number = account_for(b, 9)
    mandate = services.do_create_mandate(
        who.principal, b.code, number, who.account.public_id, Money(1_000_00, "CNY")
    )
    due = dt.date(2026, 11, mandate.due_day)
    start = balance(who.account)
    do_set_biller_down(b.code, True)
    clock.do_set_business_date(due)
    assert services.do_run_autopay(due) == {"retry": 1}
    do_set_biller_down(b.code, False)
    nxt = due + dt.timedelta(days=1)
    clock.do_set_business_date(nxt)
    result = services.do_run_autopay(nxt)
    assert result == {"paid": 1}
    paid = sum(p.amount_minor for p in BillPayment.objects.filter(state="paid"))
    assert balance(who.account) == start - paid
    assert services.do_run_autopay(nxt) == {}
    assert Mandate.objects.get(public_id=mandate.mandate_id).last_period == "202611"
    assert not Notice.objects.filter(kind="autopay_paid").exists()  # not inside the batch
    dispatch_pending()  # the outbox handler writes it after commit
    count = BillPayment.objects.filter(state="paid").count()
    assert Notice.objects.filter(kind="autopay_paid").count() == count
    centre = Notification.objects.filter(customer_id=who.customer.customer_id, kind="payment")
    assert centre.filter(dedupe_key__startswith="lifepay:").count() == count
    dispatch_pending()  # nothing is written twice
    assert centre.count() == count


def test_break_resend_after_a_timeout_is_answered_and_a_down_biller_leaves_it_open() -> None:
    day = clock.get_business_date()
    who, b = payer(), biller()
    with simulator_overrides(missing_rate=1.0, timeout_rate=1.0):
        view, _ = _pay(who, b, account_for(b, 3), "mt1")
        assert services.do_requery(view.payment_id) == "paid"
        services.do_reconcile(b.code, day)
        assert list(Break.objects.values_list("kind", flat=True)) == ["ours_only"]
        do_set_biller_down(b.code, True)
        assert services.do_auto_resolve_breaks("staff:test") == 0  # biller down: stays open
        assert queries.count_open_breaks() == 1
        do_set_biller_down(b.code, False)
        # the re-send reaches a biller that already booked the payment: answered, not timed out
        assert services.do_auto_resolve_breaks("staff:test") == 1
    assert queries.count_open_breaks() == 0
    assert SimReceipt.objects.filter(our_ref=str(view.payment_id)).count() == 1


def test_false_failure_left_out_of_the_file_is_found_and_recalled() -> None:
    """The PostgreSQL bench's lost payment: the biller booked a payment while answering an
    error (we voided it) and left it out of its file — reconciliation alone never saw it."""
    day = clock.get_business_date()
    who, b = payer(), biller()
    start = balance(who.account)
    with simulator_overrides(false_failure_rate=1.0, missing_rate=1.0):
        view, _ = _pay(who, b, account_for(b, 4), "ffm")
        assert view.state == "failed"
        services.do_reconcile(b.code, day)
    assert list(Break.objects.values_list("kind", flat=True)) == ["theirs_only"]
    assert services.do_auto_resolve_breaks("staff:test") == 1
    assert SimReceipt.objects.get(our_ref=str(view.payment_id)).reversed  # nothing booked
    assert balance(who.account) == start  # nor charged


def test_unverified_refusal_waits_for_the_biller_then_is_recalled() -> None:
    day = clock.get_business_date()
    who, b = payer(), biller()
    with simulator_overrides(false_failure_rate=1.0, missing_rate=1.0):
        view, _ = _pay(who, b, account_for(b, 6), "ffd")
        do_set_biller_down(b.code, True)  # cannot be asked at reconciliation
        services.do_reconcile(b.code, day)
        assert list(Break.objects.values_list("kind", flat=True)) == ["unconfirmed"]
        assert services.do_auto_resolve_breaks("staff:test") == 0
        do_set_biller_down(b.code, False)
        assert services.do_auto_resolve_breaks("staff:test") == 1
    assert queries.count_open_breaks() == 0
    assert SimReceipt.objects.get(our_ref=str(view.payment_id)).reversed


def test_a_down_biller_that_booked_nothing_leaves_no_break() -> None:
    day = clock.get_business_date()
    who, b = payer(), biller("440300", "mobile_cm")
    do_set_biller_down(b.code, True)
    view = services.do_pay_bill(
        who.principal,
        PayBillRequest(b.code, "13800138000", who.account.public_id, Money(50_00, "CNY")),
        idempotency_key="down",
    )
    assert (view.state, view.reason_code) == ("failed", "biller_unavailable")
    do_set_biller_down(b.code, False)
    services.do_reconcile(b.code, day)
    assert not Break.objects.exists()


def test_resend_of_a_booked_payment_is_answered_despite_a_false_failure_fault() -> None:
    """Timeout, then the biller left it out of its file: the re-send must not hit the (one-off)
    false failure again, or the break could never be resolved."""
    day = clock.get_business_date()
    who, b = payer(), biller()
    with simulator_overrides(timeout_rate=1.0, false_failure_rate=1.0, missing_rate=1.0):
        view, _ = _pay(who, b, account_for(b, 8), "tfm")
        assert view.state == "unknown"
        assert services.do_requery(view.payment_id) == "paid"
        services.do_reconcile(b.code, day)
        assert list(Break.objects.values_list("kind", flat=True)) == ["ours_only"]
        assert services.do_auto_resolve_breaks("staff:test") == 1
    assert queries.count_open_breaks() == 0
