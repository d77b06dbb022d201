"""Demo data: what ``rongshu demo`` loads. Each domain that lands adds its step here.

Every step is idempotent, so ``make demo`` can run again on the same database.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.test import override_settings

from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.simulation.accounts_demo import load_accounts_demo
from rongshu.simulation.assistant_demo import load_assistant_conversations_demo, load_assistant_demo
from rongshu.simulation.bank_demo import load_bank_demo
from rongshu.simulation.customers_demo import load_customers_demo
from rongshu.simulation.identity_demo import load_identity_demo
from rongshu.simulation.insight_demo import load_insight_demo
from rongshu.simulation.ledger_demo import load_ledger_demo
from rongshu.simulation.lending_demo import load_lending_demo
from rongshu.simulation.lifepay_demo import load_lifepay_demo
from rongshu.simulation.payments_demo import load_payments_demo
from rongshu.simulation.quickpay_demo import load_quickpay_demo

DemoStep = tuple[str, Callable[[], str]]


def _business_date() -> str:
    return f"business date {clock.get_business_date()}"


def _audit_marker() -> str:
    from rongshu.kernel.models import AuditEntry

    if not AuditEntry.objects.filter(action="demo.loaded").exists():
        do_audit("system", "demo.loaded", data={"steps": [name for name, _ in STEPS]})
    return "audit log started"


STEPS: list[DemoStep] = [
    ("business date", _business_date),
    ("audit log", _audit_marker),
    ("identity: demo logins", load_identity_demo),
    ("assistant: FAQ set and model", load_assistant_demo),
    ("ledger: chart of accounts and demo accounts", load_ledger_demo),
    ("accounts: Type I and Type II accounts of the demo customer", load_accounts_demo),
    ("payments: merchant QR, saved payee and settled payments", load_payments_demo),
    ("quick pay: a partner merchant bound to the demo customer, debits", load_quickpay_demo),
    ("lifepay: biller catalogue, saved bill accounts, a paid bill, a mandate", load_lifepay_demo),
    ("assistant: a WeChat chat waiting for an agent", load_assistant_conversations_demo),
    ("synthetic bank: 2,000 customers and 12 months of money", load_bank_demo),
    ("customers: multi-source records resolved, review queue", load_customers_demo),
    ("lending: 快贷 model approved and active, demo loan and pre-approved line", load_lending_demo),
    ("insight: OLTP exported to the lake, DuckDB profile build", load_insight_demo),
]


def _demo_sms_provider() -> dict[str, object]:
    """The demo signs the demo customer through real step-ups (quick-pay binding, payments)
    seconds apart: the simulated SMS provider's per-number frequency limits (1 a minute, as
    real providers), its delivery delay and its random refusals are lifted while loading,
    and only then."""
    return {
        **settings.RONGSHU_SMS_SIMULATOR,
        "per_minute": 100,
        "per_hour": 100,
        "per_day": 100,
        "failure_rate": 0.0,
        "min_delay_ms": 0,
        "max_delay_ms": 0,
    }


def load_demo(progress: Callable[[str], None]) -> None:
    for index, (name, step) in enumerate(STEPS, start=1):
        started = time.perf_counter()
        with (
            override_settings(RONGSHU_SMS_SIMULATOR=_demo_sms_provider()),
            transaction.atomic(),
        ):
            result = step()
        elapsed = time.perf_counter() - started
        progress(f"[{index}/{len(STEPS)}] {name}: {result} ({elapsed:.1f} s)")
