"""The PBoC account-class rule the payments domain runs before holding funds, and the
account-number resolver.

One rule, :func:`check_account_type_rules`:

- the debit side, when it is one of our customer accounts: closed or frozen by its owner →
  refused; Type I → unrestricted; Type II/III paying anything but its bound Type I account →
  the amount is added to the day's and the year's usage counters with a conditional
  ``UPDATE … SET used = used + x WHERE used + x <= cap`` (no two payments can both pass a
  cap, on SQLite or PostgreSQL); a counter that would go past its cap refuses the payment;
- the credit side, when it is one of our Type III accounts: its balance plus pending credits
  plus the amount may not exceed the balance cap (the account row is locked first, so two
  concurrent deposits are checked one after the other).

The counters are raised inside the payment's transaction: a payment that fails later rolls
them back with it.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from rongshu.accounts.errors import (
    AccountClosed,
    AccountFrozenByCustomer,
    BalanceCapExceeded,
    DailyLimitExceeded,
    YearlyLimitExceeded,
)
from rongshu.accounts.limits import get_limits
from rongshu.accounts.models import CustomerAccount, UsageCounter
from rongshu.kernel import clock, fastsql
from rongshu.kernel.money import format_minor
from rongshu.ledger import queries as ledger_queries
from rongshu.payments.types import PaymentCheck, ResolvedAccount


def _is_to_bound(account: CustomerAccount, check: PaymentCheck) -> bool:
    if (
        account.bound_ledger_account_id is not None
        and check.counterparty_account_id == account.bound_ledger_account_id
    ):
        return True
    # the bound bank's code as stored (a 3-digit bank type code, or a CNAPS code), or any
    # CNAPS code of that bank (its first three digits): a close sweep goes to the head office
    bank = check.counterparty_bank_code or ""
    return bool(
        account.bound_bank_code
        and (bank == account.bound_bank_code or bank[:3] == account.bound_bank_code)
        and check.counterparty_account_number == account.bound_account_number
    )


def _raise_counter(
    account: CustomerAccount, period: str, start: dt.date, amount: int, cap: int
) -> bool:
    """Add ``amount`` to the counter unless that passes ``cap``; True when added."""
    if amount > cap:
        return False
    try:
        with transaction.atomic():
            UsageCounter.objects.get_or_create(account=account, period=period, period_start=start)
    except IntegrityError:  # created concurrently: the row is there now
        pass
    changed = UsageCounter.objects.filter(
        account=account,
        period=period,
        period_start=start,
        used_minor__lte=cap - amount,
    ).update(used_minor=F("used_minor") + amount)
    return changed == 1


def usage(account: CustomerAccount, at: dt.datetime) -> tuple[int, int]:
    """(used today, used this year) in minor units."""
    day = at.astimezone(clock.bank_zone()).date()
    rows = dict(
        UsageCounter.objects.filter(
            account=account,
            period_start__in=[day, day.replace(month=1, day=1)],
        ).values_list("period", "used_minor")
    )
    return rows.get(UsageCounter.DAY, 0), rows.get(UsageCounter.YEAR, 0)


def check_account_type_rules(check: PaymentCheck) -> None:
    debit, credit = _both_sides(check.debit_account_id, check.counterparty_account_id)
    if debit is not None:
        if debit.status != CustomerAccount.OPEN:
            raise AccountClosed()
        if debit.self_frozen:
            raise AccountFrozenByCustomer()
        if debit.account_type in (2, 3) and not _is_to_bound(debit, check):
            with transaction.atomic():  # a refusal undoes a counter already raised (savepoint)
                _raise_counters(debit, check)
    if credit is not None:
        if credit.status != CustomerAccount.OPEN:
            raise AccountClosed()
        if credit.account_type == 3:
            check_balance_cap(credit, check.amount.minor)


_READ = {
    "id",
    "ledger_account_id",
    "currency",
    "account_type",
    "status",
    "self_frozen",
    "bound_ledger_account_id",
    "bound_bank_code",
    "bound_account_number",
}


@functools.cache
def _fields() -> tuple[Any, ...]:
    """The fields this rule reads, in the model's order (as ``Model.from_db`` wants)."""
    return tuple(f for f in CustomerAccount._meta.concrete_fields if f.attname in _READ)


def _both_sides(
    debit_id: uuid.UUID, credit_id: uuid.UUID | None
) -> tuple[CustomerAccount | None, CustomerAccount | None]:
    """Our customer accounts behind the two ledger accounts (either may be another party's
    or the bank's: None), in one statement, with the columns this rule reads; the credit
    side's row locked (FOR UPDATE on PostgreSQL), as a Type III balance cap check needs."""
    table = fastsql.table(CustomerAccount)
    quote = connection.ops.quote_name
    key = quote("ledger_account_id")
    fields = _fields()
    names = [f.attname for f in fields]
    columns = ", ".join(quote(f.column) for f in fields)
    prep = functools.partial(fastsql.prep, CustomerAccount, "ledger_account_id")
    if credit_id is None:
        sql = f"SELECT {columns} FROM {table} WHERE {key} = %s"  # noqa: S608
        params = [prep(debit_id)]
    elif connection.features.has_select_for_update:
        sql = (
            f"WITH credit AS (SELECT {columns} FROM {table} WHERE {key} = %s FOR UPDATE) "  # noqa: S608
            f"SELECT * FROM credit UNION ALL SELECT {columns} FROM {table} WHERE {key} = %s"
        )
        params = [prep(credit_id), prep(debit_id)]
    else:  # SQLite: one writer at a time, nothing to lock
        sql = f"SELECT {columns} FROM {table} WHERE {key} IN (%s, %s)"  # noqa: S608
        params = [prep(debit_id), prep(credit_id)]
    rows = fastsql.fetchall(sql, params)  # on every payment: planned once on PostgreSQL
    found = {}
    for row in rows:
        # each field's own conversion: a UUID or a boolean arrives as text / 0-1 on SQLite
        values = [f.to_python(v) for f, v in zip(fields, row, strict=True)]
        account = CustomerAccount.from_db(connection.alias, names, values)
        found[account.ledger_account_id] = account
    return found.get(debit_id), (found.get(credit_id) if credit_id is not None else None)


def _raise_counters(debit: CustomerAccount, check: PaymentCheck) -> None:
    limits = get_limits()
    amount = check.amount.minor
    day = check.at.astimezone(clock.bank_zone()).date()
    daily, yearly = limits.daily(debit.account_type), limits.yearly(debit.account_type)
    assert daily is not None
    assert yearly is not None
    if not _raise_counter(debit, UsageCounter.DAY, day, amount, daily):
        raise DailyLimitExceeded(
            data={"limit": format_minor(daily, debit.currency), "currency": debit.currency}
        )
    if not _raise_counter(debit, UsageCounter.YEAR, day.replace(month=1, day=1), amount, yearly):
        raise YearlyLimitExceeded(
            data={"limit": format_minor(yearly, debit.currency), "currency": debit.currency}
        )


def check_balance_cap(account: CustomerAccount, incoming: int) -> None:
    """Refuse a deposit that would take a Type III account over its balance cap."""
    cap = get_limits().type3_balance_cap
    view = ledger_queries.get_account(account.ledger_account_id)
    if view.balance + view.credits_pending + incoming > cap:
        raise BalanceCapExceeded(
            data={"cap": format_minor(cap, account.currency), "currency": account.currency}
        )


def resolve_account_number(account_number: str) -> ResolvedAccount | None:
    digits = "".join(account_number.split())
    account = CustomerAccount.objects.filter(account_number=digits).first()
    if account is None or account.status != CustomerAccount.OPEN:
        return None
    return ResolvedAccount(
        account_number=account.account_number,
        ledger_account_id=account.ledger_account_id,
        holder_name=account.holder_name,
        customer_id=account.customer_id,
        currency=account.currency,
    )
