"""Builders for accounts tests: customers with principals, external Type I accounts, money in."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from rongshu.accounts import services
from rongshu.accounts.models import CustomerAccount
from rongshu.accounts.verifier import do_register_external_account
from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal, PrincipalKind, Role
from rongshu.kernel.outbox import dispatch_pending
from rongshu.ledger import services as ledger
from tests.identity.builders import CustomerFixture, app_tokens, make_customer, make_staff

_numbers = itertools.count(1)


@dataclass
class Customer:
    fixture: CustomerFixture
    principal: Principal
    name: str


def customer(real_name: str = "张三") -> Customer:
    fx = make_customer(real_name=real_name)
    who = identity.principal_for_token(app_tokens(fx, f"device-{fx.phone}-0001").access_token)
    assert who is not None and who.kind is PrincipalKind.CUSTOMER
    return Customer(fx, who, real_name)


def external_type1(name: str, *, bank: str = "105", status: str = "active") -> str:
    number = f"6227{next(_numbers):015d}"
    do_register_external_account(bank, number, name, status=status)
    return number


def open_type2(c: Customer, account_type: int = 2) -> CustomerAccount:
    return services.do_open_account(
        c.principal,
        account_type=account_type,
        bind_bank_code="105",
        bind_account_number=external_type1(c.name),
    )


def teller() -> Principal:
    assert Action.ACCOUNT_OPEN_TYPE1
    return make_staff(Role.TELLER, username=f"teller-{next(_numbers)}")


def deposit(account: CustomerAccount, minor: int, reference: str = "工资") -> uuid.UUID:
    ledger.do_create_chart_of_accounts(["CNY"])
    cash = ledger.get_chart_account("cash.CNY").public_id
    out = ledger.do_transfer(
        debit=cash,
        credit=account.ledger_account_id,
        amount=minor,
        currency="CNY",
        code="deposit",
        reference=reference,
    )
    dispatch_pending()
    return out.transfer_id
