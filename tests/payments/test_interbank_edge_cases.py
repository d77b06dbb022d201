"""Interbank edge cases against the real clearing simulator: the network's BE01 is a name
mismatch; every process has the payments callback (a worker that only drains the network
moves the orders too); text XML cannot carry is refused at the door and, should it reach the
message builder, is an FF01 refusal that holds up no other order; limits come back to the
order's own day; a freeze keeps what has not left and lets through what has."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from typing import Any

import pytest

from rongshu.kernel import clock
from rongshu.kernel.errors import InvalidInput
from rongshu.payments import services
from rongshu.payments.clearing import ClearingRejected, get_network, process_inbound
from rongshu.payments.clearing.models import Instruction, SimMessage
from rongshu.payments.errors import PayeeNameMismatch
from rongshu.payments.limits import used_today
from rongshu.payments.models import PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import cny, make_payer
from tests.payments_clearing.conftest import QUIET, SHANGHAI, WORKDAY_10AM, make_instruction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_clearing")]
BANK = "102100099996"
ZHANG = ("6222020200001234567", "张伟")


def _pay(payer: Any, amount: str, *, remittance: str = "", network: str = "") -> uuid.UUID:
    view = services.do_create_payment(
        payer.principal,
        PaymentRequest(
            payer.account.public_id,
            cny(amount),
            payee_account_number=ZHANG[0],
            payee_name=ZHANG[1],
            payee_bank_code=BANK,
            network=network,
            remittance_info=remittance,
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    return view.order_id


def _state(order_id: uuid.UUID) -> str:
    return PaymentOrder.objects.get(public_id=order_id).state


# ---------------------------------------------------------------- payee verification
def test_interbank_payee_name_mismatch_is_reported_as_name_mismatch() -> None:
    """The clearing network answers BE01 for a wrong holder name; saving the payee must
    answer the stable code ``payee_name_mismatch``, not ``payee_unknown``."""
    payer = make_payer()
    with pytest.raises(Exception) as info:
        services.do_save_payee(
            payer.principal, name="李四", account_number=ZHANG[0], bank_code=BANK
        )
    assert isinstance(info.value, PayeeNameMismatch), (type(info.value), info.value)
    assert info.value.code == "payee_name_mismatch"


# ---------------------------------------------------------------- `rongshu clearing process`
def test_outcome_callback_is_registered_when_django_starts() -> None:
    """A fresh process (the worker running ``rongshu clearing process``) must have the
    payments callback registered, or the statuses it drains never reach the orders."""
    code = (
        "import django; django.setup()\n"
        "from rongshu.payments.clearing import network\n"
        "print([getattr(c, '__qualname__', repr(c)) for c in network._callbacks])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "rongshu.settings", "PATH": "/usr/bin:/bin"},
        timeout=120,
    ).stdout
    assert "handle_clearing_outcome" in out, out


# ---------------------------------------------------------------- hostile remittance text
def test_control_characters_are_refused_at_the_door() -> None:
    payer = make_payer()
    for field, value in (("remittance", "房租\x01三月"), ("name", "张伟\x00")):
        with pytest.raises(InvalidInput) as refused:
            services.do_create_payment(
                payer.principal,
                PaymentRequest(
                    payer.account.public_id,
                    cny("10.00"),
                    payee_account_number=ZHANG[0],
                    payee_name=value if field == "name" else ZHANG[1],
                    payee_bank_code=BANK,
                    remittance_info=value if field == "remittance" else "",
                ),
                idempotency_key=str(uuid.uuid4()),
            )
        assert refused.value.code == "invalid_text"
    assert not PaymentOrder.objects.exists()


def test_text_xml_cannot_carry_is_an_ff01_refusal_not_a_crash() -> None:
    with clock.frozen_time(WORKDAY_10AM), pytest.raises(ClearingRejected) as refused:
        get_network("ibps").submit(make_instruction(remittance_info="房租\x01三月"))
    assert refused.value.reason_code == "FF01"
    assert not Instruction.objects.exists()


def test_one_failing_order_does_not_hold_up_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    with clock.frozen_time(WORKDAY_10AM):
        payer = make_payer()
        first, second = _pay(payer, "10.00"), _pay(payer, "20.00")
        real = services.do_submit_order

        def flaky(order_id: uuid.UUID | str, **kw: Any) -> str:
            if str(order_id) == str(first):
                raise ValueError("a bug in one order's message")
            return real(order_id, **kw)

        monkeypatch.setattr(services, "do_submit_order", flaky)
        assert services.do_submit_pending() == 1
    assert (_state(first), _state(second)) == ("funds_held", "submitted")


# ---------------------------------------------------------------- limits across midnight
def test_rejection_after_midnight_gives_back_the_limit_of_the_payment_day() -> None:
    """An order made at 23:59:50 is rejected by the creditor bank after midnight: the limit
    usage it consumed (on its own day) must be given back — not subtracted from the next
    day's usage."""
    evening = dt.datetime(2026, 3, 11, 23, 59, 50, tzinfo=SHANGHAI)
    closed = ("6222020200005550001", "李娜")  # closed: the creditor bank rejects (AC04)
    with clock.frozen_time(evening):
        payer = make_payer()
        view = services.do_create_payment(
            payer.principal,
            PaymentRequest(
                payer.account.public_id,
                cny("100.00"),
                payee_account_number=closed[0],
                payee_name=closed[1],
                payee_bank_code=BANK,
            ),
            idempotency_key=str(uuid.uuid4()),
        )
        services.do_submit_order(view.order_id)
        day1 = clock.local_today()
        assert used_today(payer.customer_id, "api", day1) == 100_00
    after_midnight = evening + dt.timedelta(seconds=30)
    with clock.frozen_time(after_midnight):
        process_inbound()
    assert _state(view.order_id) == "rejected"
    assert PaymentOrder.objects.get(public_id=view.order_id).reason_code == "AC04"
    assert used_today(payer.customer_id, "api", day1) == 0


# ---------------------------------------------------------------- freeze between hold and ACSC
def test_settlement_after_a_judicial_freeze_posts_the_hold() -> None:
    """The network settled (money left the bank) after the payer's account was frozen: the
    hold predates the freeze, so it posts (docs/decisions/0010) and the order is settled;
    the rest of the balance stays frozen. (The ledger used to refuse, the ACSC's callback
    raised for ever and the order stayed ``submitted``.)"""
    from rongshu.ledger import queries as ledger_queries
    from rongshu.ledger import services as ledger

    with clock.frozen_time(WORKDAY_10AM):
        payer = make_payer()
        before = ledger_queries.get_account(payer.account.public_id).balance
        order = _pay(payer, "100.00")
        services.do_submit_order(order)
        ledger.do_freeze_account(payer.account.public_id, actor="court", reason="freeze")
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(hours=7)):
        process_inbound()
        process_inbound()
    stuck = list(
        SimMessage.objects.filter(state=SimMessage.PENDING).values_list("kind", "attempts", "error")
    )
    assert not stuck, stuck
    assert _state(order) == "settled"
    after = ledger_queries.get_account(payer.account.public_id)
    assert (after.status, after.debits_pending) == ("frozen", 0)
    assert before - after.balance == 10_000


def test_a_freeze_before_sending_keeps_the_money_at_home() -> None:
    """Frozen after the hold but before the order went out: nothing is sent, the hold is
    voided and the order is rejected with ISO AC06 (blocked account); its limit comes back."""
    from rongshu.ledger import queries as ledger_queries
    from rongshu.ledger import services as ledger

    with clock.frozen_time(WORKDAY_10AM):
        payer = make_payer()
        order = _pay(payer, "100.00")
        row = PaymentOrder.objects.get(public_id=order)
        day = clock.local_today()
        assert used_today(payer.customer_id, row.channel, day) == 100_00
        ledger.do_freeze_account(payer.account.public_id, actor="court", reason="freeze")
        assert services.do_submit_order(order) == "rejected"
        assert used_today(payer.customer_id, row.channel, day) == 0
    row.refresh_from_db()
    assert row.reason_code == "AC06"
    assert not Instruction.objects.exists()
    assert ledger_queries.get_account(payer.account.public_id).debits_pending == 0


def test_a_late_return_to_a_fully_frozen_account_goes_to_suspense(settings: Any) -> None:
    """A fully frozen account takes no credits: a return that arrives after the freeze is
    the bank's to pay out later, from ``suspense.<cur>``, not a message retried for ever."""
    from rongshu.ledger import queries as ledger_queries
    from rongshu.ledger import services as ledger

    settings.RONGSHU_CLEARING_SIMULATOR = {
        **QUIET,
        "late_return_rate": 1.0,
        "late_return_min_s": 2 * 3600.0,  # after the freeze, which comes at +30 minutes
        "late_return_max_s": 6 * 3600.0,
    }
    suspense = ledger.get_chart_account("suspense.CNY").public_id
    with clock.frozen_time(WORKDAY_10AM):
        payer = make_payer()
        order = _pay(payer, "100.00")
        services.do_submit_order(order)
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(minutes=30)):
        process_inbound()
    assert _state(order) == "settled"
    before = ledger_queries.get_account(suspense).balance
    ledger.do_freeze_account(payer.account.public_id, actor="court", reason="freeze")
    with clock.frozen_time(WORKDAY_10AM + dt.timedelta(hours=9)):
        process_inbound()
        process_inbound()
    assert _state(order) == "returned"
    assert not SimMessage.objects.filter(state=SimMessage.PENDING).exists()
    row = PaymentOrder.objects.get(public_id=order)
    assert ledger_queries.get_account(suspense).balance == before + 100_00 + row.fee_minor
    assert ledger_queries.get_trial_balance("CNY").balanced
