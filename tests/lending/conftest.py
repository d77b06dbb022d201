"""Builders for lending tests: one small trained model per session, the registry with a
four-eyes approved active model, borrowers with a Type I account and salary in it, a bureau
fake, and a step-up helper."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pytest

from rongshu.accounts import services as accounts
from rongshu.accounts.models import CustomerAccount
from rongshu.identity import services as identity
from rongshu.identity.types import Principal, Role
from rongshu.ledger import services as ledger
from rongshu.ledger.models import Account
from rongshu.lending import bureau, services
from rongshu.lending.models import ModelVersion
from rongshu.lending.scoring.bank import train_bank_model
from tests.accounts.builders import Customer, customer, deposit, teller
from tests.identity.builders import make_staff


@cache
def model_bytes() -> bytes:
    return train_bank_model(seed=1, n=2_000).to_bytes()


class CleanBureau:
    """A fake bureau: a clean record for everyone, except ids told otherwise."""

    def __init__(self) -> None:
        self.answers: dict[uuid.UUID, bureau.BureauReport] = {}

    def query(self, customer_id: uuid.UUID, *, timeout_s: float) -> bureau.BureauReport:
        return self.answers.get(customer_id, bureau.BureauReport("record", open_loans=1))


@pytest.fixture(autouse=True)
def chart(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("db")
        ledger.do_create_chart_of_accounts(("CNY",))


@pytest.fixture(autouse=True)
def fast_verifier(settings: object) -> None:
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0}  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def clean_bureau() -> Iterator[CleanBureau]:
    fake = CleanBureau()
    bureau.use_bureau(fake)
    yield fake
    bureau.use_bureau(None)


def risk_officers() -> tuple[Principal, Principal]:
    tag = uuid.uuid4().hex[:8]
    return (
        make_staff(Role.RISK_OFFICER, username=f"risk-a-{tag}"),
        make_staff(Role.RISK_OFFICER, username=f"risk-b-{tag}"),
    )


def activate_model() -> ModelVersion:
    a, b = risk_officers()
    row = services.do_register_model(a, model_bytes())
    services.do_approve_model(b, row.public_id)
    return services.do_activate_model(b, row.public_id)


@pytest.fixture
def active_model(db: None) -> ModelVersion:
    return activate_model()


@dataclass
class Borrower:
    who: Customer
    account: CustomerAccount

    @property
    def principal(self) -> Principal:
        return self.who.principal

    @property
    def customer_id(self) -> uuid.UUID:
        return uuid.UUID(self.who.fixture.customer_id)

    def balance(self) -> int:
        return Account.objects.get(public_id=self.account.ledger_account_id).posted_balance


def make_borrower(
    *, salary: int = 30_000_00, months: int = 6, name: str = "王五", born: str | None = None
) -> Borrower:
    c = customer(name) if born is None else customer_born(name, born)
    account = accounts.do_open_type1_in_person(
        teller(), uuid.UUID(c.fixture.customer_id), verification_note="ID card checked"
    )
    for _ in range(months):
        deposit(account, salary, reference="工资")
    return Borrower(c, account)


def customer_born(name: str, born: str) -> Customer:
    """A customer whose resident ID says ``born`` (YYYYMMDD)."""
    from rongshu.identity.types import PrincipalKind
    from tests.identity.builders import app_tokens, make_customer, resident_id

    fx = make_customer(real_name=name, rid=resident_id(born=born))
    who = identity.principal_for_token(app_tokens(fx, f"device-{fx.phone}-0001").access_token)
    assert who is not None and who.kind is PrincipalKind.CUSTOMER
    return Customer(fx, who, name)


def step_up(b: Borrower) -> None:
    info = identity.do_start_step_up(b.principal, services.STEP_UP_ACTION)
    code = identity.latest_code(b.who.fixture.phone)
    assert code is not None
    identity.do_verify_step_up(b.principal, str(info.challenge_id), code)
