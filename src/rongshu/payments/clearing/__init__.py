"""Interbank clearing: the ``ClearingNetwork`` adapter (ISO 20022 over a gateway), the
simulator of China's networks, and end-of-day reconciliation. Public API (see
``docs/clearing.md``)::

    get_network(name) -> ClearingNetwork          # "ibps", "hvps", "bulk"
    network.verify_account(bank_code, account_number, name) -> AccountCheckResult
    network.submit(instruction)                   # ClearingRejected / ClearingUnavailable
    on_outcome(callback)                          # callback(ClearingOutcome), idempotent
    process_inbound() -> int
    do_reconcile(network_name, business_date) -> ReconciliationReport

Nothing here imports models at import time (this package is also a Django app).
"""

from __future__ import annotations

import datetime as dt

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
    "get_network",
    "on_outcome",
    "process_inbound",
]


def do_reconcile(
    network_name: str, business_date: dt.date, currency: str = "CNY"
) -> ReconciliationReport:
    """See :func:`rongshu.payments.clearing.reconciliation.do_reconcile`."""
    from rongshu.payments.clearing.reconciliation import do_reconcile as run

    return run(network_name, business_date, currency)
