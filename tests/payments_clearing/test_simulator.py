"""The clearing adapter against the simulated networks: look-ups, immediate refusals, delays,
rejects, timeouts, duplicates, out-of-order delivery, late returns, outages, batches."""

from __future__ import annotations

import datetime as dt

import pytest

from rongshu.kernel import clock
from rongshu.kernel.money import Money
from rongshu.payments.clearing import (
    ClearingOutcome,
    ClearingRejected,
    ClearingUnavailable,
    get_network,
    on_outcome,
    process_inbound,
)
from rongshu.payments.clearing.errors import UnknownNetwork
from rongshu.payments.clearing.models import Instruction, SimEntry, SimMessage, SimPayment
from rongshu.payments.clearing.simulator import (
    do_add_account,
    do_set_network_down,
    simulator_overrides,
)
from tests.payments_clearing.conftest import SHANGHAI, WORKDAY_10AM, make_instruction

pytestmark = pytest.mark.django_db

T0 = WORKDAY_10AM


def at(seconds: float, base: dt.datetime = T0) -> dt.datetime:
    return base + dt.timedelta(seconds=seconds)


def drain(when: dt.datetime) -> int:
    with clock.frozen_time(when):
        return process_inbound()


def submit(network: str = "ibps", when: dt.datetime = T0, **overrides: object) -> str:
    instruction = make_instruction(**overrides)
    with clock.frozen_time(when):
        get_network(network).submit(instruction)
    return instruction.instruction_id


# ------------------------------------------------------------------ account verification
@pytest.mark.parametrize(
    ("bank", "number", "name", "expected"),
    [
        ("102100099996", "6222020200001234567", "张伟", (True, None)),
        ("102100099996", "6222020200001234567", " 张 伟 ", (True, None)),  # spacing ignored
        ("102100099996", "6222020200001234567", "张伟伟", (False, "BE01")),
        ("102100099996", "6222020200005550001", "李娜", (False, "AC04")),
        ("103100000026", "6228480010000000026", "陈静", (False, "AC06")),
        ("102100099996", "6222020200009999999", "张伟", (False, "AC01")),
        ("000000000000", "6222020200001234567", "张伟", (False, "RC01")),
    ],
)
def test_verify_account(bank: str, number: str, name: str, expected: tuple[bool, str]) -> None:
    result = get_network("ibps").verify_account(bank, number, name)
    assert (result.ok, result.reason_code) == expected


def test_unknown_network() -> None:
    with pytest.raises(UnknownNetwork):
        get_network("swift")


# ------------------------------------------------------------------ immediate refusals
def test_ibps_cap_default_and_configured() -> None:
    submit("ibps", amount=Money.parse("50000.00", "CNY"))
    with pytest.raises(ClearingRejected) as info:
        submit("ibps", amount=Money.parse("50000.01", "CNY"))
    assert info.value.reason_code == "AM02"
    assert info.value.code == "clearing_rejected"
    assert info.value.status == 422
    with simulator_overrides(ibps_cap="1000.00"), pytest.raises(ClearingRejected):
        submit("ibps", amount=Money.parse("1000.01", "CNY"))
    # HVPS has no cap
    submit("hvps", amount=Money.parse("5000000.00", "CNY"))
    assert SimPayment.objects.count() == 2
    assert Instruction.objects.count() == 2


@pytest.mark.parametrize(
    ("local", "accepted"),
    [
        (dt.datetime(2026, 3, 11, 8, 30, tzinfo=SHANGHAI), True),  # Wednesday, opening time
        (dt.datetime(2026, 3, 11, 16, 59, 59, tzinfo=SHANGHAI), True),
        (dt.datetime(2026, 3, 11, 8, 29, 59, tzinfo=SHANGHAI), False),
        (dt.datetime(2026, 3, 11, 17, 0, tzinfo=SHANGHAI), False),  # closing time
        (dt.datetime(2026, 3, 14, 10, 0, tzinfo=SHANGHAI), False),  # Saturday
        (dt.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI), False),  # National Day (a Thursday)
        (dt.datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI), True),  # Saturday made a working day
    ],
)
def test_hvps_hours_and_working_days(local: dt.datetime, accepted: bool) -> None:
    when = local
    if accepted:
        submit("hvps", when=when)
        assert SimPayment.objects.filter(network="hvps").count() == 1
    else:
        with pytest.raises(ClearingRejected) as info:
            submit("hvps", when=when)
        assert info.value.reason_code == "TM01"
        assert not Instruction.objects.exists()


def test_ibps_and_bulk_run_at_night_and_on_holidays() -> None:
    night = dt.datetime(2026, 10, 1, 3, 0, tzinfo=SHANGHAI)
    submit("ibps", when=night)
    submit("bulk", when=night)
    assert SimPayment.objects.count() == 2


def test_unknown_bank_currency_and_bad_message_are_refused_at_once() -> None:
    with pytest.raises(ClearingRejected) as info:
        submit(creditor_bank_code="000000000000")
    assert info.value.reason_code == "RC01"
    with pytest.raises(ClearingRejected) as info:
        submit(amount=Money.parse("10.00", "USD"))
    assert info.value.reason_code == "AM03"
    with pytest.raises(ClearingRejected) as info:
        submit(instruction_id="i" * 36)  # longer than Max35Text
    assert info.value.reason_code == "FF01"
    assert not SimPayment.objects.exists()
    assert not Instruction.objects.exists()


def test_submit_is_idempotent_per_instruction_id() -> None:
    instruction = make_instruction()
    network = get_network("ibps")
    with clock.frozen_time(T0):
        network.submit(instruction)
        network.submit(instruction)
    assert SimPayment.objects.count() == 1
    assert SimMessage.objects.count() == 1
    changed = make_instruction(
        instruction_id=instruction.instruction_id, amount=Money.parse("1.00", "CNY")
    )
    with clock.frozen_time(T0), pytest.raises(ClearingRejected) as info:
        network.submit(changed)
    assert info.value.reason_code == "AM05"


# ------------------------------------------------------------------ outcomes
def test_status_arrives_after_the_delay(outcomes: list[ClearingOutcome]) -> None:
    with simulator_overrides(min_delay_s=2.0, max_delay_s=4.0):
        iid = submit(amount=Money.parse("321.00", "CNY"))
    assert drain(at(1.9)) == 0
    assert outcomes == []
    assert drain(at(4.1)) == 1
    [outcome] = outcomes
    assert (outcome.instruction_id, outcome.status, outcome.duplicate) == (iid, "settled", False)
    assert outcome.amount == Money.parse("321.00", "CNY")
    assert outcome.network == "ibps"
    assert Instruction.objects.get(instruction_id=iid).status == "settled"
    assert drain(at(60)) == 0  # nothing is delivered twice


@pytest.mark.parametrize(
    ("account", "name", "reason"),
    [
        ("6222020200005550001", "李娜", "AC04"),  # closed
        ("6222020200001234567", "王五", "BE01"),  # name mismatch
        ("6222020200000000000", "张伟", "AC01"),  # unknown
    ],
)
def test_creditor_bank_rejects(
    outcomes: list[ClearingOutcome], account: str, name: str, reason: str
) -> None:
    iid = submit(creditor_account=account, creditor_name=name)
    assert drain(at(10)) == 1
    assert [(o.instruction_id, o.status, o.reason_code) for o in outcomes] == [
        (iid, "rejected", reason)
    ]
    assert not SimEntry.objects.exists()  # nothing moved at the network


def test_timeout_answers_only_much_later(outcomes: list[ClearingOutcome]) -> None:
    with simulator_overrides(timeout_rate=1.0, timeout_delay_s=900.0):
        submit()
    assert drain(at(300)) == 0
    assert drain(at(904)) == 1
    assert [o.status for o in outcomes] == ["settled"]


def test_duplicate_status_is_delivered_marked_duplicate(outcomes: list[ClearingOutcome]) -> None:
    with simulator_overrides(duplicate_rate=1.0):
        iid = submit()
    assert SimMessage.objects.count() == 2
    assert drain(at(3600)) == 2
    assert [(o.instruction_id, o.status, o.duplicate) for o in outcomes] == [
        (iid, "settled", False),
        (iid, "settled", True),
    ]
    assert outcomes[0].message_id == outcomes[1].message_id


def test_out_of_order_status_is_overtaken(outcomes: list[ClearingOutcome]) -> None:
    with simulator_overrides(out_of_order_rate=1.0):
        first = submit()
    second = submit(when=at(1))
    assert drain(at(3600)) == 2
    assert [o.instruction_id for o in outcomes] == [second, first]


def test_late_return_after_settlement(outcomes: list[ClearingOutcome]) -> None:
    with simulator_overrides(late_return_rate=1.0, late_return_min_s=3600, late_return_max_s=7200):
        iid = submit(amount=Money.parse("77.00", "CNY"))
    assert drain(at(60)) == 1
    assert [o.status for o in outcomes] == ["settled"]
    # the pacs.004 and its camt.054 credit notification
    assert drain(at(8000)) == 2
    assert [(o.status, o.duplicate) for o in outcomes] == [("settled", False), ("returned", False)]
    assert outcomes[1].reason_code in ("AC04", "AC06", "MD07")
    assert outcomes[1].amount == Money.parse("77.00", "CNY")
    assert Instruction.objects.get(instruction_id=iid).status == "returned"
    assert sorted(SimEntry.objects.values_list("direction", "amount_minor")) == [
        ("CRDT", 7700),
        ("DBIT", 7700),
    ]


def test_return_overtaking_its_own_status(outcomes: list[ClearingOutcome]) -> None:
    with simulator_overrides(
        late_return_rate=1.0, out_of_order_rate=1.0, late_return_min_s=60, late_return_max_s=60
    ):
        iid = submit()
    drain(at(3600))
    assert [(o.instruction_id, o.status, o.duplicate) for o in outcomes] == [
        (iid, "returned", False),
        (iid, "settled", True),  # stale: the return already said more
    ]
    assert Instruction.objects.get(instruction_id=iid).status == "returned"


def test_network_down(outcomes: list[ClearingOutcome]) -> None:
    submit()
    do_set_network_down("ibps", True)
    with pytest.raises(ClearingUnavailable) as info:
        submit()
    assert info.value.status == 503
    assert info.value.code == "clearing_unavailable"
    with pytest.raises(ClearingUnavailable):
        get_network("ibps").verify_account("102100099996", "6222020200001234567", "张伟")
    assert drain(at(60)) == 0  # nothing comes in from a network that is down
    submit("hvps")  # other networks are unaffected
    do_set_network_down("ibps", False)
    assert drain(at(60)) == 2
    assert sorted(o.status for o in outcomes) == ["settled", "settled"]


def test_bulk_settles_in_the_next_batch_window(outcomes: list[ClearingOutcome]) -> None:
    with simulator_overrides(bulk_window_minutes=30):
        submit("bulk", when=dt.datetime(2026, 3, 11, 10, 7, tzinfo=SHANGHAI))
    assert drain(dt.datetime(2026, 3, 11, 10, 29, 59, tzinfo=SHANGHAI)) == 0
    assert drain(dt.datetime(2026, 3, 11, 10, 30, 4, tzinfo=SHANGHAI)) == 1
    assert [o.status for o in outcomes] == ["settled"]
    entry = SimEntry.objects.get()
    assert entry.booked_at >= dt.datetime(2026, 3, 11, 10, 30, tzinfo=SHANGHAI)


def test_the_seed_makes_fates_deterministic() -> None:
    ids = [f"seedtest{n:02d}" for n in range(12)]

    def fates(seed: int) -> list[tuple[str, dt.datetime]]:
        SimPayment.objects.all().delete()
        SimMessage.objects.all().delete()
        Instruction.objects.all().delete()
        with simulator_overrides(seed=seed, reject_rate=0.5, timeout_rate=0.3):
            for iid in ids:
                submit(instruction_id=iid, end_to_end_id=iid)
        return list(SimPayment.objects.order_by("instruction_id").values_list("fate", "decided_at"))

    first = fates(5)
    assert fates(5) == first
    assert fates(6) != first
    assert {fate for fate, _ in first} == {"settled", "rejected"}


def test_a_message_failing_the_xsd_is_quarantined(outcomes: list[ClearingOutcome]) -> None:
    submit()
    message = SimMessage.objects.get()
    message.xml = message.xml.replace("<TxSts>ACSC</TxSts>", "<TxSts>TOOLONGCODE</TxSts>")
    message.save()
    assert drain(at(60)) == 0
    message.refresh_from_db()
    assert message.state == SimMessage.INVALID
    assert "XSD" in message.error
    assert outcomes == []


def test_a_failing_callback_rolls_back_and_is_retried() -> None:
    calls: list[ClearingOutcome] = []
    fail = [True]

    def flaky(outcome: ClearingOutcome) -> None:
        calls.append(outcome)
        if fail[0]:
            raise RuntimeError("downstream busy")

    on_outcome(flaky)
    iid = submit()
    assert drain(at(60)) == 0
    message = SimMessage.objects.get()
    assert (message.state, message.attempts) == (SimMessage.PENDING, 1)
    assert Instruction.objects.get(instruction_id=iid).status == "submitted"  # rolled back
    fail[0] = False
    assert drain(at(61)) == 1
    assert [(c.status, c.duplicate) for c in calls] == [("settled", False), ("settled", False)]


def test_directory_can_be_extended() -> None:
    do_add_account("308584000013", "6225880100009990001", "钱多多", "open")
    result = get_network("bulk").verify_account("308584000013", "6225880100009990001", "钱多多")
    assert result.ok
