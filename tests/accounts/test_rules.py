"""The Type II/III rule registered with payments: caps, bound-account exemption, Type III
balance cap, the resolver, and caps that hold under concurrent checks."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from rongshu.accounts.errors import (
    AccountFrozenByCustomer,
    BalanceCapExceeded,
    DailyLimitExceeded,
    YearlyLimitExceeded,
)
from rongshu.accounts.models import CustomerAccount, UsageCounter
from rongshu.accounts.services import do_freeze_my_account
from rongshu.kernel import clock
from rongshu.kernel.errors import RuleViolation
from rongshu.kernel.money import Money
from rongshu.payments.services import check_payment_rules, find_account_by_number
from rongshu.payments.types import PaymentCheck
from tests.accounts.builders import customer, deposit, open_type2
from tests.conftest import on_postgres

pytestmark = pytest.mark.django_db


def payment(
    account: CustomerAccount,
    yuan: int,
    *,
    to_bank: str | None = "308",
    to_number: str | None = "6225880012345678",
    to_account: uuid.UUID | None = None,
    at: dt.datetime | None = None,
) -> PaymentCheck:
    return PaymentCheck(
        customer_id=account.customer_id,
        debit_account_id=account.ledger_account_id,
        amount=Money(yuan * 100, "CNY"),
        rail="interbank" if to_bank else "internal",
        counterparty_account_id=to_account,
        counterparty_bank_code=to_bank,
        counterparty_account_number=to_number,
        at=at or clock.now(),
    )


def test_type2_daily_cap_counts_payments_to_non_bound_accounts() -> None:
    account = open_type2(customer())
    check_payment_rules(payment(account, 6_000))
    check_payment_rules(payment(account, 4_000))  # exactly the ¥10,000 cap
    with pytest.raises(DailyLimitExceeded) as info:
        check_payment_rules(payment(account, 1))
    assert info.value.status == 422
    assert info.value.to_problem()["code"] == "account_daily_limit_exceeded"
    # the bound Type I account is not limited
    check_payment_rules(
        payment(
            account, 50_000, to_bank=account.bound_bank_code, to_number=account.bound_account_number
        )
    )
    # the next day has a fresh daily cap
    check_payment_rules(payment(account, 9_000, at=clock.now() + dt.timedelta(days=1)))


def test_yearly_cap_and_refusal_undoes_the_daily_counter(settings: Any) -> None:
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0, "type2_yearly": 15_000_00}
    account = open_type2(customer())
    day1 = clock.now()
    check_payment_rules(payment(account, 10_000, at=day1))
    with pytest.raises(YearlyLimitExceeded):
        check_payment_rules(payment(account, 6_000, at=day1 + dt.timedelta(days=1)))
    day2 = (day1 + dt.timedelta(days=1)).astimezone(clock.bank_zone()).date()
    counter = UsageCounter.objects.filter(account=account, period="day", period_start=day2).first()
    assert counter is None or counter.used_minor == 0


def test_type3_small_payments_and_balance_cap() -> None:
    account = open_type2(customer(), 3)
    with pytest.raises(DailyLimitExceeded):
        check_payment_rules(payment(account, 2_001))
    deposit(account, 1_500_00)
    incoming = payment(account, 0, to_bank=None, to_number=None)
    ok = PaymentCheck(
        **{
            **incoming.__dict__,
            "debit_account_id": uuid.uuid4(),
            "counterparty_account_id": account.ledger_account_id,
            "amount": Money(500_00, "CNY"),
        }
    )
    check_payment_rules(ok)  # 1,500 + 500 = the ¥2,000 cap
    too_much = PaymentCheck(**{**ok.__dict__, "amount": Money(500_01, "CNY")})
    with pytest.raises(BalanceCapExceeded) as info:
        check_payment_rules(too_much)
    assert info.value.to_problem()["cap"] == "2000.00"


def test_self_frozen_account_cannot_pay() -> None:
    c = customer()
    account = open_type2(c)
    do_freeze_my_account(c.principal, account.public_id)
    with pytest.raises(AccountFrozenByCustomer):
        check_payment_rules(payment(account, 1))


def test_resolver_turns_our_numbers_into_ledger_accounts() -> None:
    account = open_type2(customer("孙八"))
    found = find_account_by_number(account.account_number)
    assert found is not None
    assert found.ledger_account_id == account.ledger_account_id
    assert found.holder_name == "孙八"
    assert find_account_by_number("6217880001299999992") is None


def _race(account_pk: int, workers: int, yuan: int) -> tuple[int, int]:
    """``workers`` threads each check one payment in its own transaction at the same time."""
    barrier = threading.Barrier(workers)
    passed: list[int] = []
    refused: list[int] = []

    def work() -> None:
        try:
            account = CustomerAccount.objects.get(pk=account_pk)
            barrier.wait()
            for _attempt in range(50):
                try:
                    with transaction.atomic():
                        check_payment_rules(payment(account, yuan))
                    passed.append(1)
                    return
                except RuleViolation:
                    refused.append(1)
                    return
                except Exception as exc:  # SQLite "database is locked": retry like a client
                    if "locked" not in str(exc):
                        raise
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return len(passed), len(refused)


@pytest.mark.django_db(transaction=True)
def test_daily_cap_holds_under_concurrent_checks() -> None:
    account = open_type2(customer())
    passed, refused = _race(account.pk, 8, 3_000)  # 8 × ¥3,000 against a ¥10,000 cap
    assert (passed, refused) == (3, 5)
    used = UsageCounter.objects.get(account=account, period="day").used_minor
    assert used == 9_000_00


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_daily_cap_holds_under_concurrent_checks_postgres() -> None:
    if not on_postgres():
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…)")
    account = open_type2(customer())
    passed, refused = _race(account.pk, 16, 700)  # 16 × ¥700: 14 fit in ¥10,000
    assert (passed, refused) == (14, 2)
    assert UsageCounter.objects.get(account=account, period="day").used_minor == 9_800_00
    assert UsageCounter.objects.get(account=account, period="year").used_minor == 9_800_00
