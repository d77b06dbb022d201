"""Builders for payments tests: customers with funded deposit accounts, merchants, and a fake
clearing network implementing the clearing package's API (a fake, not a mock)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from rongshu.identity import services as identity
from rongshu.identity.types import Principal
from rongshu.kernel.money import Money
from rongshu.ledger import services as ledger
from rongshu.ledger.models import Account
from rongshu.payments import interbank, services
from rongshu.payments.types import ResolvedAccount
from tests.identity.builders import CustomerFixture, app_tokens, make_customer


@dataclass
class Payer:
    customer: CustomerFixture
    principal: Principal
    account: Account
    name: str

    @property
    def customer_id(self) -> uuid.UUID:
        return uuid.UUID(self.customer.customer_id)


def fund(account: Account, minor: int) -> None:
    cash = ledger.get_chart_account("cash.CNY").public_id
    ledger.do_transfer(
        debit=cash, credit=account.public_id, amount=minor, currency="CNY", code="cash_deposit"
    )


def make_payer(*, name: str = "张三", balance: int = 100_000_00) -> Payer:
    customer = make_customer(real_name=name)
    tokens = app_tokens(customer, f"device-{customer.customer_id[:20]}")
    who = identity.principal_for_token(tokens.access_token)
    assert who is not None
    account = ledger.do_create_customer_account(owner_id=customer.customer_id, name=f"{name} 活期")
    if balance:
        fund(account, balance)
    return Payer(customer, who, account, name)


def balance(account: Account) -> int:
    return Account.objects.get(pk=account.pk).posted_balance


def available(account: Account) -> int:
    fresh = Account.objects.get(pk=account.pk)
    return fresh.credits_posted - fresh.debits_posted - fresh.debits_pending


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


# ------------------------------------------------------------------ account numbers
_NUMBERS: dict[str, ResolvedAccount] = {}


def _resolve(number: str) -> ResolvedAccount | None:
    return _NUMBERS.get(number)


def give_number(payer: Payer, number: str) -> str:
    _NUMBERS[number] = ResolvedAccount(
        account_number=number,
        ledger_account_id=payer.account.public_id,
        holder_name=payer.name,
        customer_id=payer.customer_id,
        currency="CNY",
    )
    return number


@pytest.fixture(autouse=True)
def chart_of_accounts(request: pytest.FixtureRequest) -> None:
    """The chart comes from a data migration; a transactional test elsewhere flushes it, so
    payments tests make sure it is there (the call is idempotent)."""
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("db")
        ledger.do_create_chart_of_accounts(("CNY",))


@pytest.fixture(autouse=True)
def account_numbers() -> Iterator[None]:
    services.register_account_resolver(_resolve)
    yield
    _NUMBERS.clear()
    services._resolvers.remove(_resolve)


# ------------------------------------------------------------------ fake clearing
class ClearingRejected(Exception):
    def __init__(self, reason_code: str) -> None:
        super().__init__(reason_code)
        self.reason_code = reason_code


class ClearingUnavailable(Exception):
    pass


@dataclass(frozen=True)
class CreditTransferInstruction:
    instruction_id: str
    end_to_end_id: str
    amount: Money
    debtor_name: str
    debtor_account: str
    creditor_bank_code: str
    creditor_account: str
    creditor_name: str
    remittance_info: str


@dataclass(frozen=True)
class ClearingOutcome:
    instruction_id: str
    status: str
    reason_code: str | None
    message_id: str
    duplicate: bool = False


@dataclass(frozen=True)
class AccountCheckResult:
    ok: bool
    reason_code: str | None = None


@dataclass
class FakeNetwork:
    name: str
    owner: FakeClearing

    def verify_account(self, bank_code: str, account_number: str, name: str) -> AccountCheckResult:
        known = self.owner.accounts.get((bank_code, account_number))
        if known is None:  # the simulator's and the real network's ISO 20022 reason codes
            return AccountCheckResult(False, "AC01")
        if known != name:
            return AccountCheckResult(False, "BE01")
        return AccountCheckResult(True)

    def submit(self, instruction: CreditTransferInstruction) -> None:
        if self.owner.down:
            raise ClearingUnavailable()
        if (
            instruction.creditor_bank_code,
            instruction.creditor_account,
        ) not in self.owner.accounts:
            raise ClearingRejected("AC01")
        self.owner.submitted.append((self.name, instruction))


@dataclass
class FakeClearing:
    """The clearing package's API: networks, outcome callbacks and an inbound queue that the
    test fills (duplicates, out-of-order, late returns)."""

    accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    submitted: list[tuple[str, CreditTransferInstruction]] = field(default_factory=list)
    inbound: list[ClearingOutcome] = field(default_factory=list)
    callbacks: list[Callable[[Any], None]] = field(default_factory=list)
    down: bool = False
    ClearingRejected: type[Exception] = ClearingRejected
    ClearingUnavailable: type[Exception] = ClearingUnavailable
    CreditTransferInstruction: Any = CreditTransferInstruction

    def get_network(self, name: str) -> FakeNetwork:
        return FakeNetwork(name, self)

    def on_outcome(self, callback: Callable[[Any], None]) -> None:
        if callback not in self.callbacks:
            self.callbacks.append(callback)

    def push(self, instruction_id: str, status: str, reason: str | None = None) -> None:
        self.inbound.append(
            ClearingOutcome(instruction_id, status, reason, f"msg-{len(self.inbound)}")
        )

    def process_inbound(self) -> int:
        from django.db import transaction

        count = 0
        while self.inbound:
            outcome = self.inbound.pop(0)
            with transaction.atomic():
                for callback in self.callbacks:
                    callback(outcome)
            count += 1
        return count


@pytest.fixture
def clearing() -> Iterator[FakeClearing]:
    fake = FakeClearing(accounts={("102100099996", "6222020000000001"): "李四"})
    interbank.use_clearing(fake)
    yield fake
    interbank.use_clearing(None)


@pytest.fixture
def real_clearing(settings: Any) -> Iterator[None]:
    """The real clearing package (its simulator without faults, no verifier delay) instead
    of a fake; the package's callbacks and the port restored afterwards."""
    from rongshu.payments.clearing import network as clearing_network
    from tests.payments_clearing.conftest import QUIET

    settings.RONGSHU_CLEARING_SIMULATOR = dict(QUIET)
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}
    saved_callbacks = list(clearing_network._callbacks)
    saved_api = interbank._api
    interbank.use_clearing(None)
    try:
        yield
    finally:
        clearing_network._callbacks[:] = saved_callbacks
        interbank._api = saved_api


def step_up(payer: Payer) -> None:
    """Pass a one-time-code step-up for payments in the payer's session."""
    info = identity.do_start_step_up(payer.principal, services.STEP_UP_ACTION)
    code = identity.latest_code(payer.customer.phone)
    assert code is not None
    assert identity.do_verify_step_up(payer.principal, str(info.challenge_id), code) == (
        services.STEP_UP_ACTION
    )
