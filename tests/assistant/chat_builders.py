"""Builders for dialogue and channel tests: two customers with funded Type II accounts, one
of them with the other as a saved payee, and the trained FAQ engine."""

from __future__ import annotations

from dataclasses import dataclass

from rongshu.accounts.models import CustomerAccount
from rongshu.identity.types import Principal
from rongshu.payments import services as payments
from tests.accounts.builders import Customer, customer, deposit, open_type2


@dataclass
class Pair:
    payer: Customer
    payee: Customer
    payer_account: CustomerAccount
    payee_account: CustomerAccount

    @property
    def principal(self) -> Principal:
        return self.payer.principal


def make_pair(*, funds: int = 10_000_00) -> Pair:
    payer, payee = customer("张三"), customer("李四")
    a, b = open_type2(payer), open_type2(payee)
    deposit(a, funds)
    payments.do_save_payee(payer.principal, name="李四", account_number=b.account_number)
    return Pair(payer, payee, a, b)


def balance_of(account: CustomerAccount) -> int:
    from rongshu.ledger import queries as ledger_queries

    return ledger_queries.get_account(account.ledger_account_id).balance
