"""Binding verification: is this Type I account at another bank real, active and held by this
person? (In China: the 账户验证 service of the interbank networks.)

:class:`BindingVerifier` is the port; :class:`SimulatedBindingVerifier` behaves like the
network: it answers after a delay, knows the other banks' accounts in its own table
(:class:`~rongshu.accounts.models.SimulatedExternalAccount`), and refuses an unknown bank or
account, a closed or frozen one, a name that does not match, or an account that is not Type I;
a configurable share of calls fails as "unavailable".

:class:`ClearingBindingVerifier` delegates to the clearing network's account verification
(``rongshu.payments.clearing.get_network(...).verify_account``, 12-digit CNAPS bank codes):
set ``RONGSHU_ACCOUNTS["verifier"] = "rongshu.accounts.verifier.ClearingBindingVerifier"``.
The network does not report an account's class, so that adapter cannot refuse a Type II/III
account at the other bank (``not_type1``); it is not the default because the opening form and
the demo use 3-digit bank type codes (行别) and the simulator's own table.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Protocol

from django.utils.module_loading import import_string

from rongshu.accounts.limits import get_limits
from rongshu.accounts.models import SimulatedExternalAccount

# CNAPS bank codes (行别代码) of the banks the simulator serves.
KNOWN_BANKS: dict[str, str] = {
    "102": "中国工商银行 ICBC",
    "103": "中国农业银行 ABC",
    "104": "中国银行 BOC",
    "105": "中国建设银行 CCB",
    "301": "交通银行 BOCOM",
    "308": "招商银行 CMB",
    "403": "中国邮政储蓄银行 PSBC",
}


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    code: str  # "verified" or the reason: unknown_bank, unknown_account, name_mismatch, …


class VerifierUnavailable(Exception):
    pass


class BindingVerifier(Protocol):
    def verify(
        self, bank_code: str, account_number: str, holder_name: str
    ) -> VerificationResult: ...


class SimulatedBindingVerifier:
    def __init__(self) -> None:
        limits = get_limits()
        self.delay_ms = limits.verifier_delay_ms
        self.unavailable_rate = limits.verifier_unavailable_rate
        self.random = random.Random()  # noqa: S311 - simulation, not security

    def verify(self, bank_code: str, account_number: str, holder_name: str) -> VerificationResult:
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)
        if self.unavailable_rate and self.random.random() < self.unavailable_rate:
            raise VerifierUnavailable("the verification network timed out")
        if bank_code not in KNOWN_BANKS:
            return VerificationResult(False, "unknown_bank")
        record = SimulatedExternalAccount.objects.filter(
            bank_code=bank_code, account_number=account_number
        ).first()
        if record is None:
            return VerificationResult(False, "unknown_account")
        if record.status == "closed":
            return VerificationResult(False, "account_closed")
        if record.status != "active":
            return VerificationResult(False, "account_not_active")
        if record.holder_name.strip() != holder_name.strip():
            return VerificationResult(False, "name_mismatch")
        if record.account_class != 1:
            return VerificationResult(False, "not_type1")
        return VerificationResult(True, "verified")


# ISO 20022 reason codes of the clearing network's account check → our refusal codes
CLEARING_REASONS = {
    "RC01": "unknown_bank",
    "AC01": "unknown_account",
    "AC04": "account_closed",
    "AC06": "account_not_active",
    "BE01": "name_mismatch",
}


class ClearingBindingVerifier:
    """Binding verification through the interbank network (``network`` ``ibps`` by default,
    ``RONGSHU_ACCOUNTS["verifier_network"]``); its unavailability answers 503 as ours does."""

    def __init__(self, network: str | None = None) -> None:
        self.network = network or get_limits().verifier_network

    def verify(self, bank_code: str, account_number: str, holder_name: str) -> VerificationResult:
        from rongshu.payments import clearing

        try:
            result = clearing.get_network(self.network).verify_account(
                bank_code, account_number, holder_name
            )
        except clearing.ClearingUnavailable as exc:
            raise VerifierUnavailable(str(exc)) from exc
        if result.ok:
            return VerificationResult(True, "verified")
        return VerificationResult(
            False, CLEARING_REASONS.get(result.reason_code or "", "unknown_account")
        )


def get_verifier() -> BindingVerifier:
    verifier: BindingVerifier = import_string(get_limits().verifier)()
    return verifier


def do_register_external_account(
    bank_code: str,
    account_number: str,
    holder_name: str,
    *,
    status: str = "active",
    account_class: int = 1,
) -> SimulatedExternalAccount:
    """Put an account of another bank into the simulator (demo and tests), and into the
    clearing network simulator's directory under its bank's head office, so that a payment
    to it — a close sweep — reaches it there."""
    from rongshu.payments import clearing

    row, _ = SimulatedExternalAccount.objects.update_or_create(
        bank_code=bank_code,
        account_number=account_number,
        defaults={"holder_name": holder_name, "status": status, "account_class": account_class},
    )
    head_office = clearing.head_office(bank_code)
    if head_office is not None:
        clearing.do_register_account(
            head_office,
            account_number,
            holder_name,
            {"active": "open", "closed": "closed"}.get(status, "blocked"),
        )
    return row
