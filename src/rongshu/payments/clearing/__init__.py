"""Interbank clearing: the ``ClearingNetwork`` adapter (ISO 20022 over a gateway), the
simulator of China's networks, and end-of-day reconciliation. Public API (see
``docs/clearing.md``)::

    get_network(name) -> ClearingNetwork          # "ibps", "hvps", "bulk"
    network.verify_account(bank_code, account_number, name) -> AccountCheckResult
    network.submit(instruction)                   # ClearingRejected / ClearingUnavailable
    opens_at(network_name, at) -> datetime        # when it takes payments next (HVPS hours)
    head_office(bank_code) -> str | None          # a 3-digit bank type code's CNAPS code
    do_register_account(bank_code, number, name, status)   # the simulator's directory
    on_outcome(callback)                          # callback(ClearingOutcome), idempotent
    process_inbound() -> int
    do_reconcile(network_name, business_date) -> ReconciliationReport

Nothing here imports models at import time (this package is also a Django app).
"""

from __future__ import annotations

import datetime as dt

from rongshu.payments.clearing.directory import head_office
from rongshu.payments.clearing.errors import ClearingRejected, ClearingUnavailable
from rongshu.payments.clearing.network import (
    ClearingNetwork,
    get_network,
    on_outcome,
    process_inbound,
)
from rongshu.payments.clearing.types import (
    AccountCheckResult,
    ClearingOutcome,
    CreditTransferInstruction,
    ReconciliationBreak,
    ReconciliationReport,
)

__all__ = [
    "AccountCheckResult",
    "ClearingNetwork",
    "ClearingOutcome",
    "ClearingRejected",
    "ClearingUnavailable",
    "CreditTransferInstruction",
    "ReconciliationBreak",
    "ReconciliationReport",
    "do_reconcile",
    "do_register_account",
    "get_network",
    "head_office",
    "on_outcome",
    "opens_at",
    "process_inbound",
]


def opens_at(network_name: str, at: dt.datetime) -> dt.datetime:
    """When the network takes payments next, from ``at`` on: ``at`` itself while it is open
    (HVPS: working days in its hours, Asia/Shanghai; IBPS and bulk: always). A submission
    while it is closed is refused ``TM01``."""
    return get_network(network_name).opens_at(at)


def do_reconcile(
    network_name: str, business_date: dt.date, currency: str = "CNY"
) -> ReconciliationReport:
    """See :func:`rongshu.payments.clearing.reconciliation.do_reconcile`."""
    from rongshu.payments.clearing.reconciliation import do_reconcile as run

    return run(network_name, business_date, currency)


def do_register_account(bank_code: str, number: str, name: str, status: str = "open") -> None:
    """Put (or update) an account of another bank in the simulator's directory (demo and
    tests: ``accounts.verifier.do_register_external_account`` keeps its own simulated
    accounts and this directory in step). ``status``: open, closed or blocked."""
    from rongshu.payments.clearing.directory import BANKS
    from rongshu.payments.clearing.models import SimAccount, SimBank

    # the directory's banks are seeded by migration; a flushed test database has lost them
    bank, _ = SimBank.objects.get_or_create(
        code=bank_code, defaults={"name": dict(BANKS).get(bank_code, bank_code)}
    )
    SimAccount.objects.update_or_create(
        bank=bank, number=number, defaults={"name": name, "status": status}
    )
