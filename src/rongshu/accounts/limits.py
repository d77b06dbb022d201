"""The PBoC account-class limits, configurable per bank: ``settings.RONGSHU_ACCOUNTS``.

Defaults follow 银发〔2016〕261号 / 〔2018〕16号: a Type II account pays non-bound accounts at
most ¥10,000 a day and ¥200,000 a year; a Type III account at most ¥2,000 a day and ¥100,000 a
year, and its balance may not exceed ¥2,000. Payments to the bound Type I account are not
counted. Amounts are minor units (fen).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class AccountLimits:
    bin: str = "621788"
    branch_code: str = "0001"
    type2_daily: int = 10_000_00
    type2_yearly: int = 200_000_00
    type3_daily: int = 2_000_00
    type3_yearly: int = 100_000_00
    type3_balance_cap: int = 2_000_00
    max_type2: int = 5  # per customer at this bank
    max_type3: int = 5
    verifier: str = "rongshu.accounts.verifier.SimulatedBindingVerifier"
    verifier_delay_ms: int = 300
    verifier_unavailable_rate: float = 0.0
    verifier_network: str = "ibps"  # for ClearingBindingVerifier

    def daily(self, account_type: int) -> int | None:
        return {2: self.type2_daily, 3: self.type3_daily}.get(account_type)

    def yearly(self, account_type: int) -> int | None:
        return {2: self.type2_yearly, 3: self.type3_yearly}.get(account_type)

    def max_accounts(self, account_type: int) -> int | None:
        return {2: self.max_type2, 3: self.max_type3}.get(account_type)


def get_limits() -> AccountLimits:
    configured: dict[str, Any] = getattr(settings, "RONGSHU_ACCOUNTS", {}) or {}
    known = {f.name for f in fields(AccountLimits)}
    return AccountLimits(**{k: v for k, v in configured.items() if k in known})
