"""Property: under any mix of injected faults, every submitted instruction ends settled,
rejected or returned, and an idempotent callback sees each state exactly once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rongshu.kernel import clock
from rongshu.kernel.money import Money
from rongshu.payments.clearing import (
    ClearingOutcome,
    ClearingRejected,
    get_network,
    on_outcome,
    process_inbound,
)
from rongshu.payments.clearing import network as clearing_network
from rongshu.payments.clearing.models import (
    Instruction,
    ReceivedMessage,
    SimEntry,
    SimMessage,
    SimPayment,
)
from rongshu.payments.clearing.simulator import simulator_overrides
from tests.payments_clearing.conftest import WORKDAY_10AM, make_instruction

pytestmark = pytest.mark.django_db

CREDITORS = [
    ("102100099996", "6222020200001234567", "张伟"),  # open
    ("104100000004", "6216610100000000029", "上海榕果贸易有限公司"),  # open
    ("102100099996", "6222020200005550001", "李娜"),  # closed
    ("102100099996", "6222020200007654321", "王二"),  # name mismatch
    ("103100000026", "6228480010000000026", "陈静"),  # blocked
]

submission = st.tuples(
    st.sampled_from(["ibps", "hvps", "bulk"]),
    st.integers(min_value=1, max_value=6_000_000),  # up to ¥60,000: some over the IBPS cap
    st.sampled_from(range(len(CREDITORS))),
    st.integers(min_value=0, max_value=600),  # seconds after the first submission
)
rate = st.sampled_from([0.0, 0.3, 1.0])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    subs=st.lists(submission, min_size=1, max_size=8),
    seed=st.integers(min_value=0, max_value=2**16),
    timeout=rate,
    duplicate=rate,
    out_of_order=rate,
    late_return=rate,
    reject=rate,
)
def test_every_instruction_ends_exactly_once(
    subs: list[tuple[str, int, int, int]],
    seed: int,
    timeout: float,
    duplicate: float,
    out_of_order: float,
    late_return: float,
    reject: float,
) -> None:
    # The callback a payment order would register: ignores what it has already applied.
    applied: dict[str, list[str]] = defaultdict(list)

    def idempotent(outcome: ClearingOutcome) -> None:
        if outcome.duplicate:
            return
        history = applied[outcome.instruction_id]
        assert outcome.status not in history  # never the same transition twice
        history.append(outcome.status)

    # Each example starts from an empty network, so its fates depend only on its inputs.
    for model in (Instruction, ReceivedMessage, SimPayment, SimMessage, SimEntry):
        model.objects.all().delete()
    clearing_network._callbacks.clear()  # only this example's callback
    on_outcome(idempotent)
    accepted: set[str] = set()
    refused: set[str] = set()
    with simulator_overrides(
        seed=seed,
        timeout_rate=timeout,
        duplicate_rate=duplicate,
        out_of_order_rate=out_of_order,
        late_return_rate=late_return,
        reject_rate=reject,
        late_return_min_s=60,
        late_return_max_s=7200,
    ):
        for n, (network, minor, creditor, offset) in enumerate(subs):
            bank, account, name = CREDITORS[creditor]
            instruction = make_instruction(
                instruction_id=f"prop{n:03d}",
                end_to_end_id=f"e2e-prop{n:03d}",
                amount=Money(minor, "CNY"),
                creditor_bank_code=bank,
                creditor_account=account,
                creditor_name=name,
            )
            with clock.frozen_time(WORKDAY_10AM + dt.timedelta(seconds=offset)):
                try:
                    get_network(network).submit(instruction)
                except ClearingRejected:
                    refused.add(instruction.instruction_id)
                else:
                    accepted.add(instruction.instruction_id)
                # a process drains now and then, in the middle of submitting
                process_inbound()
    for minutes in (1, 20, 40, 90, 200, 600):
        with clock.frozen_time(WORKDAY_10AM + dt.timedelta(minutes=minutes)):
            process_inbound()

    assert set(applied) == accepted  # every accepted instruction heard back; nothing else
    for iid in accepted:
        history = applied[iid]
        assert history in (["settled"], ["rejected"], ["settled", "returned"], ["returned"])
        final = Instruction.objects.get(instruction_id=iid).status
        assert final == history[-1]
    assert not refused & accepted
