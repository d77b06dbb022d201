from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rongshu.kernel.money import Money
from rongshu.payments.clearing import network as clearing_network
from rongshu.payments.clearing.types import ClearingOutcome, CreditTransferInstruction

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 11 March 2026, 10:00 in Shanghai: a working day inside HVPS hours.
WORKDAY_10AM = dt.datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)

QUIET = {
    "seed": 11,
    "min_delay_s": 1.0,
    "max_delay_s": 3.0,
    "timeout_rate": 0.0,
    "duplicate_rate": 0.0,
    "out_of_order_rate": 0.0,
    "late_return_rate": 0.0,
    "reject_rate": 0.0,
}


@pytest.fixture(autouse=True)
def quiet_network(settings: Any) -> None:
    """No injected faults unless a test asks for them (with ``simulator_overrides``)."""
    settings.RONGSHU_CLEARING_SIMULATOR = dict(QUIET)


@pytest.fixture(autouse=True)
def outcome_callbacks() -> Iterator[None]:
    saved = list(clearing_network._callbacks)
    clearing_network._callbacks.clear()
    try:
        yield
    finally:
        clearing_network._callbacks[:] = saved


@pytest.fixture
def outcomes() -> list[ClearingOutcome]:
    seen: list[ClearingOutcome] = []
    clearing_network.on_outcome(seen.append)
    return seen


def make_instruction(**overrides: Any) -> CreditTransferInstruction:
    fields: dict[str, Any] = {
        "instruction_id": uuid.uuid4().hex,
        "end_to_end_id": uuid.uuid4().hex,
        "amount": Money.parse("100.00", "CNY"),
        "debtor_name": "林小榕",
        "debtor_account": "6230000000000000001",
        "creditor_bank_code": "102100099996",
        "creditor_account": "6222020200001234567",
        "creditor_name": "张伟",
        "remittance_info": "房租 March",
    }
    fields.update(overrides)
    return CreditTransferInstruction(**fields)
