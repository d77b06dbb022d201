"""Review fixes (stop 24) to payment orders:

1. a replay with the same Idempotency-Key is the same order only for the same body: the
   interbank payee name, the network asked for and the remittance text count too (a request
   that leaves the network to us replays the order we routed for it);
2. an amount over the most any authentication level allows per payment is refused with
   ``limit_exceeded`` before the customer is asked for a one-time code it cannot use;
3. a large-value (HVPS) order outside the network's hours waits with its funds held (not
   rejected TM01) and goes out with the sweep when HVPS opens, close sweeps included; the
   sweep does not knock on the closed network's door meanwhile.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import transaction

from rongshu.identity import services as identity
from rongshu.identity.errors import StepUpRequired
from rongshu.kernel import clock
from rongshu.kernel.outbox import dispatch_pending
from rongshu.ledger import queries as ledger_queries
from rongshu.payments import clearing as clearing_package
from rongshu.payments import interbank, limits, services
from rongshu.payments.clearing import network as clearing_network
from rongshu.payments.clearing import process_inbound
from rongshu.payments.clearing.models import Instruction
from rongshu.payments.errors import LimitExceeded, PaymentRefused
from rongshu.payments.models import PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import (
    Payer,
    available,
    balance,
    cny,
    give_number,
    make_payer,
    step_up,
)
from tests.payments_clearing.conftest import SHANGHAI, WORKDAY_10AM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_clearing")]
BANK = "102100099996"
ZHANG = ("6222020200001234567", "张伟")  # an open account in the simulator's directory
FRIDAY_6PM = dt.datetime(2026, 3, 13, 18, 0, tzinfo=SHANGHAI)  # after HVPS hours
SATURDAY_10AM = dt.datetime(2026, 3, 14, 10, 0, tzinfo=SHANGHAI)
MONDAY_8AM = dt.datetime(2026, 3, 16, 8, 0, tzinfo=SHANGHAI)
MONDAY_OPEN = dt.datetime(2026, 3, 16, 8, 30, tzinfo=SHANGHAI)


def _interbank(payer: Payer, amount: str, **fields: Any) -> PaymentRequest:
    values: dict[str, Any] = {
        "payee_account_number": ZHANG[0],
        "payee_name": ZHANG[1],
        "payee_bank_code": BANK,
        "remittance_info": "房租 三月",
    }
    values.update(fields)
    return PaymentRequest(payer.account.public_id, cny(amount), **values)


def _order(order_id: uuid.UUID) -> PaymentOrder:
    return PaymentOrder.objects.get(public_id=order_id)


# ================================================================ 1. replays
@pytest.mark.parametrize(
    "changed",
    [
        {"payee_name": "李四"},
        {"network": "hvps"},  # the first was left to us and went by IBPS
        {"remittance_info": "房租 四月"},
    ],
    ids=["payee_name", "network", "remittance_info"],
)
def test_a_key_reused_for_another_interbank_body_is_refused(changed: dict[str, str]) -> None:
    with clock.frozen_time(WORKDAY_10AM):
        payer = make_payer()
        first = services.do_create_payment(
            payer.principal, _interbank(payer, "100.00"), idempotency_key="k-1"
        )
        assert first.network == "ibps"
        with pytest.raises(PaymentRefused) as refused:
            services.do_create_payment(
                payer.principal, _interbank(payer, "100.00", **changed), idempotency_key="k-1"
            )
        assert refused.value.code == "idempotency_key_reused"
        # the identical body still answers the same order
        again = services.do_create_payment(
            payer.principal, _interbank(payer, "100.00"), idempotency_key="k-1"
        )
    assert again.order_id == first.order_id
    assert PaymentOrder.objects.count() == 1
    assert available(payer.account) == 100_000_00 - 100_00


def test_a_replay_compares_the_network_asked_for_not_the_one_stored() -> None:
    """The order stores the network it went by; a request that left the choice to us
    replays equal to the order we routed for it, an explicit choice must be that one."""
    payer = make_payer(balance=200_000_00)  # its sign-up code is then not the newest SMS
    with clock.frozen_time(WORKDAY_10AM):
        # the small ones first: the usage of the day counts against the password level's cap
        small = services.do_create_payment(
            payer.principal, _interbank(payer, "100.00", network="ibps"), idempotency_key="small"
        )
        chosen = services.do_create_payment(
            payer.principal, _interbank(payer, "100.00", network="hvps"), idempotency_key="hvps"
        )
        step_up(payer)
        large = services.do_create_payment(
            payer.principal, _interbank(payer, "60000.00"), idempotency_key="large"
        )  # auto: above the IBPS cap, HVPS
        assert (large.network, small.network, chosen.network) == ("hvps", "ibps", "hvps")
        replays = [
            ("large", "60000.00", ""),
            ("large", "60000.00", "hvps"),
            ("small", "100.00", ""),  # auto would have chosen IBPS too
            ("small", "100.00", "ibps"),
            ("hvps", "100.00", "hvps"),
        ]
        for key, amount, network in replays:
            view = services.do_create_payment(
                payer.principal, _interbank(payer, amount, network=network), idempotency_key=key
            )
            assert view.order_id == {"large": large, "small": small, "hvps": chosen}[key].order_id
        refused = [
            ("small", "100.00", "hvps"),
            ("small", "100.00", "bulk"),
            ("hvps", "100.00", ""),  # left to us, this amount goes by IBPS, not HVPS
            ("hvps", "100.00", "ibps"),
        ]
        for key, amount, network in refused:
            with pytest.raises(PaymentRefused) as caught:
                services.do_create_payment(
                    payer.principal,
                    _interbank(payer, amount, network=network),
                    idempotency_key=key,
                )
            assert caught.value.code == "idempotency_key_reused", (key, network)
    assert PaymentOrder.objects.count() == 3


def test_internal_and_qr_replays_still_answer_their_order() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    shop = make_payer(name="小店", balance=0)
    to_payee = PaymentRequest(
        payer.account.public_id,
        cny("12.00"),
        payee_ledger_account_id=payee.account.public_id,
        remittance_info="午饭",
    )
    first = services.do_create_payment(payer.principal, to_payee, idempotency_key="int-1")
    again = services.do_create_payment(payer.principal, to_payee, idempotency_key="int-1")
    assert again.order_id == first.order_id
    with pytest.raises(PaymentRefused) as refused:
        services.do_create_payment(
            payer.principal,
            PaymentRequest(**{**to_payee.__dict__, "remittance_info": "晚饭"}),
            idempotency_key="int-1",
        )
    assert refused.value.code == "idempotency_key_reused"
    # by account number: the holder's name as the payment checks it (spaces and case aside)
    number = give_number(payee, "6230580000000000017")
    by_number = PaymentRequest(
        payer.account.public_id, cny("3.00"), payee_account_number=number, payee_name="李四"
    )
    first = services.do_create_payment(payer.principal, by_number, idempotency_key="int-2")
    spaced = PaymentRequest(**{**by_number.__dict__, "payee_name": " 李 四"})
    again = services.do_create_payment(payer.principal, spaced, idempotency_key="int-2")
    assert again.order_id == first.order_id
    with pytest.raises(PaymentRefused) as refused:
        services.do_create_payment(
            payer.principal,
            PaymentRequest(**{**by_number.__dict__, "payee_name": "王五"}),
            idempotency_key="int-2",
        )
    assert refused.value.code == "idempotency_key_reused"

    merchant = services.do_create_merchant(
        merchant_code="MREPLAY1",
        name="Corner Shop",
        city="Beijing",
        ledger_account_id=shop.account.public_id,
    )
    paid = [
        services.do_pay_merchant_qr(
            payer.principal,
            payload=merchant.static_payload,
            debit_account_id=payer.account.public_id,
            amount=cny("8.50"),
            idempotency_key="qr-1",
        )
        for _ in range(2)
    ]
    assert paid[0].order_id == paid[1].order_id
    assert (balance(payee.account), balance(shop.account)) == (15_00, 8_50)


# ================================================================ 2. limit before step-up
@pytest.mark.parametrize("channel", ["api", "web"])
def test_an_amount_no_step_up_could_allow_is_refused_before_asking_for_one(channel: str) -> None:
    payer, payee = make_payer(balance=900_000_00), make_payer(name="李四", balance=0)
    ceiling = limits.limits_for(channel, limits.STEP_UP).per_transaction
    request = PaymentRequest(
        payer.account.public_id,
        cny("500000.01"),
        payee_ledger_account_id=payee.account.public_id,
    )
    assert request.amount.minor == ceiling + 1
    with pytest.raises(LimitExceeded) as refused:
        services.do_create_payment(payer.principal, request, channel=channel, idempotency_key="x")
    assert refused.value.code == "limit_exceeded"
    assert refused.value.data["limit"] == "per_transaction"
    # with a step-up passed, it is not spent on a payment that cannot be made
    step_up(payer)
    with pytest.raises(LimitExceeded):
        services.do_create_payment(payer.principal, request, channel=channel, idempotency_key="x")
    assert identity.has_step_up(payer.principal, services.STEP_UP_ACTION)
    assert not PaymentOrder.objects.exists()
    # the same amount by the interbank rail: refused before the step-up too
    with pytest.raises(LimitExceeded):
        services.do_create_payment(
            payer.principal, _interbank(payer, "500000.01"), channel=channel, idempotency_key="y"
        )
    assert identity.has_step_up(payer.principal, services.STEP_UP_ACTION)


def test_a_merchant_qr_over_every_cap_is_refused_before_the_step_up() -> None:
    """The QR path applies the same rule: over every level's cap → ``limit_exceeded``, and
    a step-up already passed is kept for a payment that can be made."""
    payer = make_payer(balance=900_000_00)
    shop = make_payer(name="小店", balance=0)
    merchant = services.do_create_merchant(
        merchant_code="MCAP0001",
        name="Big Shop",
        city="Beijing",
        ledger_account_id=shop.account.public_id,
    )
    step_up(payer)
    with pytest.raises(LimitExceeded):
        services.do_pay_merchant_qr(
            payer.principal,
            payload=merchant.static_payload,
            debit_account_id=payer.account.public_id,
            amount=cny("500000.01"),
            idempotency_key="qr-cap",
        )
    assert identity.has_step_up(payer.principal, services.STEP_UP_ACTION)
    assert not PaymentOrder.objects.exists()


def test_a_channel_whose_password_cap_is_below_the_threshold_asks_for_the_step_up(
    settings: Any,
) -> None:
    """Between the channel's password cap and the step-up threshold a payment used to be
    refused outright although a step-up would allow it: it now asks for the step-up."""
    settings.RONGSHU_PAYMENT_LIMITS = {
        ("api", limits.PASSWORD): limits.Limits(1_000_00, 20_000_00, 1_000_000_00)
    }
    payer, payee = make_payer(balance=900_000_00), make_payer(name="李四", balance=0)
    request = PaymentRequest(
        payer.account.public_id, cny("2000.00"), payee_ledger_account_id=payee.account.public_id
    )
    with pytest.raises(StepUpRequired), transaction.atomic():
        services.do_create_payment(payer.principal, request, idempotency_key="mid")
    step_up(payer)
    view = services.do_create_payment(payer.principal, request, idempotency_key="mid")
    assert (view.state, view.auth_level) == ("settled", limits.STEP_UP)


def test_above_the_threshold_and_within_reach_still_asks_for_the_step_up() -> None:
    payer, payee = make_payer(balance=900_000_00), make_payer(name="李四", balance=0)
    for amount in ("5000.01", "500000.00"):
        request = PaymentRequest(
            payer.account.public_id, cny(amount), payee_ledger_account_id=payee.account.public_id
        )
        with pytest.raises(StepUpRequired), transaction.atomic():
            services.do_create_payment(payer.principal, request, idempotency_key=f"k-{amount}")
        step_up(payer)
        view = services.do_create_payment(payer.principal, request, idempotency_key=f"k-{amount}")
        assert (view.state, view.auth_level) == ("settled", limits.STEP_UP)
    assert balance(payee.account) == 505_000_01


def test_the_ceiling_follows_the_configured_limits(settings: Any) -> None:
    settings.RONGSHU_PAYMENT_LIMITS = {("api", limits.STEP_UP): limits.Limits(8_000_00, 1, 1)}
    payer, payee = make_payer(), make_payer(name="李四", balance=0)

    def pay(amount: str) -> None:
        with transaction.atomic():  # a refusal after the order's insert undoes the caller's
            services.do_create_payment(
                payer.principal,
                PaymentRequest(
                    payer.account.public_id,
                    cny(amount),
                    payee_ledger_account_id=payee.account.public_id,
                ),
            )

    with pytest.raises(LimitExceeded):
        pay("8000.01")
    with pytest.raises(StepUpRequired):
        pay("8000.00")


# ================================================================ 3. HVPS outside its hours
def test_hvps_opening_time_comes_from_the_clearing_package() -> None:
    api = interbank.clearing()
    assert interbank.opens_at(api, "hvps", WORKDAY_10AM) == WORKDAY_10AM
    assert interbank.opens_at(api, "ibps", FRIDAY_6PM) == FRIDAY_6PM
    assert interbank.opens_at(api, "hvps", FRIDAY_6PM) == MONDAY_OPEN
    assert interbank.opens_at(api, "hvps", MONDAY_8AM) == MONDAY_OPEN
    # the National Day holiday: the next working day's hours (the kernel's calendar)
    eve = dt.datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI)
    after = interbank.opens_at(api, "hvps", eve).astimezone(SHANGHAI)
    assert after.date() == clock.next_working_day(eve.date()) > dt.date(2026, 10, 7)
    assert after.time() == dt.time(8, 30)


def test_an_hvps_order_only_the_sweep_sees_is_marked_as_waiting_too() -> None:
    """The submission after commit never ran (a crash): the sweep, which leaves a closed
    network's orders out, still marks them ``TM01`` so the customer sees why they wait."""
    payer = make_payer(balance=200_000_00)
    with clock.frozen_time(FRIDAY_6PM):
        step_up(payer)
        view = services.do_create_payment(
            payer.principal, _interbank(payer, "60000.00"), idempotency_key=str(uuid.uuid4())
        )
        assert _order(view.order_id).reason_code == ""
        services.do_submit_pending()
    assert (_order(view.order_id).state, _order(view.order_id).reason_code) == (
        "funds_held",
        "TM01",
    )
    assert not Instruction.objects.exists()


def test_an_hvps_order_after_hours_waits_held_and_goes_out_when_hvps_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []
    real_submit = clearing_network.ClearingNetwork.submit

    def counting(self: Any, instruction: Any) -> None:
        sent.append(self.name)
        real_submit(self, instruction)

    monkeypatch.setattr(clearing_network.ClearingNetwork, "submit", counting)
    payer = make_payer(balance=200_000_00)  # its sign-up code is then not the newest SMS
    with clock.frozen_time(FRIDAY_6PM):
        small = services.do_create_payment(
            payer.principal, _interbank(payer, "100.00"), idempotency_key=str(uuid.uuid4())
        )
        step_up(payer)
        view = services.do_create_payment(
            payer.principal, _interbank(payer, "60000.00"), idempotency_key=str(uuid.uuid4())
        )
        assert (view.network, view.state) == ("hvps", "funds_held")
        # the submission after commit: HVPS is closed, so the order waits, saying why
        assert services.do_submit_order(view.order_id) == "funds_held"
        order = _order(view.order_id)
        assert (order.state, order.reason_code) == ("funds_held", "TM01")
        detail = services.order_view(order, history=True)
        assert (detail.state, detail.reason_code) == ("funds_held", "TM01")
        assert available(payer.account) == 200_000_00 - 60_000_00 - 5_00 - 100_00
    # the scheduler's sweep every 5 s over the weekend: IBPS goes, HVPS is not even tried
    for at in (FRIDAY_6PM, FRIDAY_6PM + dt.timedelta(seconds=5), SATURDAY_10AM, MONDAY_8AM):
        with clock.frozen_time(at):
            services.do_submit_pending()
            process_inbound()
    assert sent == ["ibps"]
    assert _order(small.order_id).state == "settled"
    assert (_order(view.order_id).state, _order(view.order_id).reason_code) == (
        "funds_held",
        "TM01",
    )
    assert not Instruction.objects.filter(network="hvps").exists()
    # Monday 08:30: the sweep sends it, and the network settles it
    with clock.frozen_time(MONDAY_OPEN):
        assert services.do_submit_pending() == 1
    order = _order(view.order_id)
    assert (order.state, order.reason_code) == ("submitted", "")
    with clock.frozen_time(MONDAY_OPEN + dt.timedelta(minutes=1)):
        process_inbound()
    assert _order(view.order_id).state == "settled"
    assert sent == ["ibps", "hvps"]
    assert balance(payer.account) == 200_000_00 - 60_000_00 - 5_00 - 100_00


def test_a_cut_off_answer_from_the_network_keeps_the_order_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Our clock and the network's may disagree at the boundary: the network's TM01 (cut-off
    time) is a wait, not a rejection."""
    with clock.frozen_time(FRIDAY_6PM):
        payer = make_payer()
        view = services.do_create_payment(
            payer.principal,
            _interbank(payer, "100.00", network="hvps"),
            idempotency_key=str(uuid.uuid4()),
        )
        monkeypatch.setattr(clearing_package, "opens_at", lambda network, at: at)
        assert services.do_submit_order(view.order_id) == "funds_held"
    order = _order(view.order_id)
    assert (order.state, order.reason_code) == ("funds_held", "TM01")
    assert available(payer.account) == 100_000_00 - 100_00 - 5_00
    monkeypatch.undo()
    with clock.frozen_time(MONDAY_OPEN):
        assert services.do_submit_pending() == 1
    assert _order(view.order_id).state == "submitted"


def test_a_close_sweep_by_hvps_after_hours_waits_for_the_next_working_day(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from rongshu.accounts import services as accounts
    from rongshu.accounts.models import CustomerAccount
    from tests.accounts.builders import customer, deposit, open_type2

    settings.RONGSHU_PAYMENT_STEP_UP_MINOR = 10_000_000_00  # this test is not about step-up
    c = customer()
    account = open_type2(c)
    deposit(account, 60_000_00)  # above the IBPS cap: HVPS
    with clock.frozen_time(FRIDAY_6PM):
        with django_capture_on_commit_callbacks(execute=True):  # submitted after commit
            closing = accounts.do_close_my_account(c.principal, account.public_id)
        assert closing.status == CustomerAccount.CLOSING
        services.do_submit_pending()
        dispatch_pending()
    order = PaymentOrder.objects.get(public_id=closing.closing_order_id)
    assert (order.network, order.state, order.reason_code) == ("hvps", "funds_held", "TM01")
    account.refresh_from_db()
    assert account.status == CustomerAccount.CLOSING  # not opened again
    for at in (SATURDAY_10AM, MONDAY_OPEN, MONDAY_OPEN + dt.timedelta(minutes=1)):
        with clock.frozen_time(at):
            services.do_submit_pending()
            process_inbound()
            dispatch_pending()
            dispatch_pending()
    order.refresh_from_db()
    account.refresh_from_db()
    assert order.state == "settled"
    assert account.status == CustomerAccount.CLOSED
    assert ledger_queries.get_account(account.ledger_account_id).balance == 0
