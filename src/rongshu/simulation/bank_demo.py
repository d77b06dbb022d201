"""Demo step: the synthetic bank — about 2,000 customers with twelve months of money ending on
the business date, loaded through identity, accounts and the ledger (idempotent: a second
run finds everything in place and posts nothing new)."""

from __future__ import annotations

import os

from rongshu.kernel.audit import do_audit
from rongshu.simulation.bank.load import load_bank

DEMO_CUSTOMERS = int(os.environ.get("RONGSHU_DEMO_CUSTOMERS", "2000"))
DEMO_MONTHS = int(os.environ.get("RONGSHU_DEMO_MONTHS", "12"))
DEMO_SEED = 1


def load_bank_demo() -> str:
    counts = load_bank(
        customers=DEMO_CUSTOMERS, months=DEMO_MONTHS, seed=DEMO_SEED, spending="monthly"
    )
    if counts["exists"] < 0:
        return f"{counts['accounts']:,} customers with Type I accounts, loaded before"
    if counts["customers"] or counts["created"]:
        do_audit("system", "demo.bank_loaded", data=counts)
    return (
        f"{counts['accounts']:,} customers with Type I accounts ({counts['customers']:,} new), "
        f"{counts['created']:,} new transfers, {counts['exists']:,} already there, "
        f"{counts['refused']:,} refused (insufficient funds)"
    )
