"""Payment orders: internal transfers, interbank holds and outcomes, fees, idempotency,
refusals, history and events."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from rongshu.identity.errors import StepUpRequired
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.payments import services
from rongshu.payments.errors import (
    DebitAccountInvalid,
    InsufficientFunds,
    PayeeNameMismatch,
    PayeeUnknown,
)
from rongshu.payments.models import PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import (
    FakeClearing,
    available,
    balance,
    cny,
    give_number,
    make_payer,
    step_up,
)

pytestmark = pytest.mark.django_db

BANK, OTHER = "102100099996", "6222020000000001"


def states(order_id: uuid.UUID) -> list[str]:
    order = PaymentOrder.objects.get(public_id=order_id)
    return [c.to_state for c in order.history.all()]


def test_internal_transfer_by_account_number_settles_at_once() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000001")
    view = services.do_create_payment(
        payer.principal,
        PaymentRequest(
            payer.account.public_id,
            cny("123.45"),
            payee_account_number=number,
            payee_name="李四",
            remittance_info="房租",
        ),
        idempotency_key="k-1",
    )
    assert view.state == "settled"
    assert view.fee.minor == 0
    assert balance(payer.account) == 100_000_00 - 123_45
    assert balance(payee.account) == 123_45
    assert states(view.order_id) == ["settled"]
    events = set(OutboxEvent.objects.values_list("event_type", flat=True))
    assert "payments.PaymentSettled" in events
    assert "payments.PaymentCreated" not in events  # stored settled: one event
    assert ledger_queries.get_trial_balance().balanced


def test_same_key_returns_the_same_order_and_moves_money_once() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    req = PaymentRequest(
        payer.account.public_id, cny("10.00"), payee_ledger_account_id=payee.account.public_id
    )
    first = services.do_create_payment(payer.principal, req, idempotency_key="same")
    second = services.do_create_payment(payer.principal, req, idempotency_key="same")
    assert first.order_id == second.order_id
    assert balance(payee.account) == 10_00
    assert PaymentOrder.objects.count() == 1


def test_name_mismatch_unknown_payee_and_foreign_debit_account_are_refused() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000002")
    with pytest.raises(PayeeNameMismatch):
        services.do_create_payment(
            payer.principal,
            PaymentRequest(
                payer.account.public_id, cny("1.00"), payee_account_number=number, payee_name="王五"
            ),
        )
    with pytest.raises(PayeeUnknown):
        services.do_create_payment(
            payer.principal,
            PaymentRequest(
                payer.account.public_id, cny("1.00"), payee_account_number="0000", payee_name="李四"
            ),
        )
    with pytest.raises(DebitAccountInvalid):
        services.do_create_payment(
            payer.principal,
            PaymentRequest(
                payee.account.public_id,
                cny("1.00"),
                payee_ledger_account_id=payer.account.public_id,
            ),
        )
    assert PaymentOrder.objects.count() == 0


def test_insufficient_funds_leaves_no_order_and_no_hold() -> None:
    payer, payee = make_payer(balance=50_00), make_payer(name="李四", balance=0)
    with pytest.raises(InsufficientFunds), transaction.atomic():
        services.do_create_payment(
            payer.principal,
            PaymentRequest(
                payer.account.public_id,
                cny("50.01"),
                payee_ledger_account_id=payee.account.public_id,
            ),
        )
    assert PaymentOrder.objects.count() == 0
    assert balance(payer.account) == 50_00


def test_above_the_threshold_a_step_up_is_required() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    with pytest.raises(StepUpRequired), transaction.atomic():
        services.do_create_payment(
            payer.principal,
            PaymentRequest(
                payer.account.public_id,
                cny("5000.01"),
                payee_ledger_account_id=payee.account.public_id,
            ),
        )
    assert PaymentOrder.objects.count() == 0


def _interbank(payer, amount: str = "1000.00", account: str = OTHER):  # type: ignore[no-untyped-def]
    return services.do_create_payment(
        payer.principal,
        PaymentRequest(
            payer.account.public_id,
            cny(amount),
            payee_account_number=account,
            payee_name="李四",
            payee_bank_code=BANK,
        ),
        idempotency_key=str(uuid.uuid4()),
    )


def test_interbank_small_amount_lifecycle(clearing: FakeClearing) -> None:
    payer = make_payer()
    settlement = ledger.get_chart_account("settlement.ibps.CNY")
    before = settlement.posted_balance
    view = _interbank(payer)
    assert view.state == "funds_held" and view.network == "ibps"
    assert balance(payer.account) == 100_000_00  # held, not posted
    assert available(payer.account) == 100_000_00 - 1000_00
    assert services.do_submit_order(view.order_id) == "submitted"
    assert clearing.submitted[0][1].instruction_id == view.order_id.hex
    clearing.push(str(view.order_id), "settled")
    clearing.push(str(view.order_id), "settled")  # duplicate
    assert clearing.process_inbound() == 2
    assert states(view.order_id)[-1] == "settled"
    assert balance(payer.account) == 100_000_00 - 1000_00
    assert ledger.get_chart_account("settlement.ibps.CNY").posted_balance == before - 1000_00
    assert ledger_queries.get_trial_balance().balanced


def test_interbank_rejected_synchronously_voids_the_hold(clearing: FakeClearing) -> None:
    payer = make_payer()
    view = _interbank(payer, account="9999")
    assert services.do_submit_order(view.order_id) == "rejected"
    order = PaymentOrder.objects.get(public_id=view.order_id)
    assert order.reason_code == "AC01"
    assert available(payer.account) == 100_000_00
    assert states(view.order_id) == ["funds_held", "rejected"]


def test_interbank_unavailable_stays_held_then_sweep_submits(clearing: FakeClearing) -> None:
    payer = make_payer()
    view = _interbank(payer)
    clearing.down = True
    assert services.do_submit_order(view.order_id) == "funds_held"
    clearing.down = False
    assert services.do_submit_pending() == 1
    assert PaymentOrder.objects.get(public_id=view.order_id).state == "submitted"


def test_interbank_late_return_after_settlement_reverses_with_fee(clearing: FakeClearing) -> None:
    payer = make_payer()
    step_up(payer)
    view = _interbank(payer, "6000.00")
    assert view.fee.minor == 2_00
    services.do_submit_order(view.order_id)
    clearing.push(str(view.order_id), "settled")
    clearing.push(str(view.order_id), "returned", "AC04")
    clearing.push(str(view.order_id), "returned", "AC04")  # duplicate
    clearing.push(str(view.order_id), "settled")  # late duplicate of the settlement
    clearing.process_inbound()
    assert states(view.order_id)[-2:] == ["settled", "returned"]
    assert balance(payer.account) == 100_000_00
    assert ledger_queries.get_trial_balance().balanced


def test_return_before_settled_posts_then_reverses(clearing: FakeClearing) -> None:
    payer = make_payer()
    view = _interbank(payer)
    services.do_submit_order(view.order_id)
    clearing.push(str(view.order_id), "returned", "AC06")
    clearing.process_inbound()
    assert PaymentOrder.objects.get(public_id=view.order_id).state == "returned"
    assert balance(payer.account) == 100_000_00
    assert available(payer.account) == 100_000_00


def test_rejected_outcome_voids_and_releases_limit(clearing: FakeClearing) -> None:
    from rongshu.kernel import clock
    from rongshu.payments.limits import used_today

    payer = make_payer()
    view = _interbank(payer)
    assert used_today(payer.customer_id, "api", clock.local_today()) == 1000_00
    services.do_submit_order(view.order_id)
    clearing.push(str(view.order_id), "rejected", "AM04")
    clearing.process_inbound()
    assert PaymentOrder.objects.get(public_id=view.order_id).state == "rejected"
    assert available(payer.account) == 100_000_00
    assert used_today(payer.customer_id, "api", clock.local_today()) == 0


def test_payee_verification(clearing: FakeClearing) -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    number = give_number(payee, "6228480000000003")
    saved = services.do_save_payee(payer.principal, name="李四", account_number=number)
    assert saved.verified and saved.ledger_account_id == payee.account.public_id
    other = services.do_save_payee(
        payer.principal, name="李四", account_number=OTHER, bank_code=BANK
    )
    assert other.verified
    with pytest.raises(PayeeNameMismatch):
        services.do_save_payee(payer.principal, name="赵六", account_number=OTHER, bank_code=BANK)
    with pytest.raises(PayeeUnknown):
        services.do_save_payee(payer.principal, name="李四", account_number="1", bank_code=BANK)


def test_payment_rules_run_before_funds_are_held() -> None:
    from rongshu.kernel.errors import RuleViolation

    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    seen = []

    def refuse(check):  # type: ignore[no-untyped-def]
        seen.append(check)
        raise RuleViolation("no", code="type_ii_limit")

    services.register_payment_rule(refuse)
    try:
        with pytest.raises(RuleViolation) as caught, transaction.atomic():
            services.do_create_payment(
                payer.principal,
                PaymentRequest(
                    payer.account.public_id,
                    cny("1.00"),
                    payee_ledger_account_id=payee.account.public_id,
                ),
            )
    finally:
        services._rules.remove(refuse)
    assert caught.value.code == "type_ii_limit"
    assert seen[0].rail == "internal" and seen[0].amount == cny("1.00")
    assert balance(payee.account) == 0 and PaymentOrder.objects.count() == 0


def test_with_a_step_up_a_large_payment_goes_through_once() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    step_up(payer)
    req = PaymentRequest(
        payer.account.public_id, cny("8000.00"), payee_ledger_account_id=payee.account.public_id
    )
    view = services.do_create_payment(payer.principal, req)
    assert view.state == "settled" and view.auth_level == "step_up"
    with pytest.raises(StepUpRequired), transaction.atomic():  # the grant was spent
        services.do_create_payment(payer.principal, req)
    assert balance(payee.account) == 8000_00


def test_a_replayed_large_payment_answers_its_order_without_a_new_step_up() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    step_up(payer)
    req = PaymentRequest(
        payer.account.public_id, cny("8000.00"), payee_ledger_account_id=payee.account.public_id
    )
    first = services.do_create_payment(payer.principal, req, idempotency_key="big-1")
    # the grant is spent: the replay's own check refuses, and the stored order answers
    again = services.do_create_payment(payer.principal, req, idempotency_key="big-1")
    assert again.order_id == first.order_id and again.state == "settled"
    assert balance(payee.account) == 8000_00 and PaymentOrder.objects.count() == 1
