"""Interest on demand deposits (活期存款), after Fineract's savings accounts and PBoC practice.

* **Accrual**, every business date at end of day: ``closing posted balance × annual rate ÷ day
  count`` (actual/360 for RMB deposits), kept as an exact ``Decimal`` of minor units — nothing
  is rounded per day. The rate is the product's rate in force *on that date*, so a rate change
  mid-period is honoured day by day.
* **Settlement** on the 20th of March, June, September and December (结息日): the unsettled
  accruals of each account are summed and rounded **once**, with the rounding mode named on
  the product's rate (``ROUND_HALF_UP`` for customer-facing interest by default), and posted as
  a transfer from the bank's interest-expense account to the deposit account. The transfer id
  is derived from the account and the date, so a rerun settles nothing twice.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections import defaultdict
from decimal import Decimal

from django.db import transaction

from rongshu.kernel.outbox import record_event
from rongshu.ledger.errors import AccountSpecInvalid
from rongshu.ledger.events import InterestSettled
from rongshu.ledger.models import Account, BalanceSnapshot, InterestAccrual, InterestRate
from rongshu.ledger.services import do_create_transfers, get_chart_account
from rongshu.ledger.types import TransferIn

INTEREST_NAMESPACE = uuid.UUID("5b0f6c2e-8f3c-4a59-9a43-3f1e0d1c7a11")
SETTLEMENT_MONTHS = (3, 6, 9, 12)
ROUNDING_MODES = {
    "ROUND_HALF_UP": decimal.ROUND_HALF_UP,
    "ROUND_HALF_EVEN": decimal.ROUND_HALF_EVEN,
    "ROUND_DOWN": decimal.ROUND_DOWN,
}


def do_set_interest_rate(
    *,
    product_code: str,
    currency: str,
    annual_rate: Decimal,
    effective_on: dt.date,
    day_count: int = 360,
    rounding: str = "ROUND_HALF_UP",
) -> InterestRate:
    """Define (or redefine) a product's annual rate from ``effective_on``."""
    if not isinstance(annual_rate, Decimal) or not Decimal(0) <= annual_rate < Decimal(1):
        raise AccountSpecInvalid("The annual rate is a Decimal fraction such as 0.0035.")
    if rounding not in ROUNDING_MODES:
        raise AccountSpecInvalid(f"Rounding must be one of {sorted(ROUNDING_MODES)}.")
    if day_count not in (360, 365):
        raise AccountSpecInvalid("The day count is 360 or 365.")
    rate, _ = InterestRate.objects.update_or_create(
        product_code=product_code,
        currency=currency,
        effective_on=effective_on,
        defaults={"annual_rate": annual_rate, "day_count": day_count, "rounding": rounding},
    )
    return rate


def rate_on(product_code: str, currency: str, day: dt.date) -> InterestRate | None:
    return (
        InterestRate.objects.filter(
            product_code=product_code, currency=currency, effective_on__lte=day
        )
        .order_by("-effective_on")
        .first()
    )


def is_settlement_date(day: dt.date) -> bool:
    return day.day == 20 and day.month in SETTLEMENT_MONTHS


def do_accrue_interest(business_date: dt.date) -> dict[str, int]:
    """Accrue one day of interest on every open account of a product with a rate."""
    products = set(InterestRate.objects.values_list("product_code", "currency").distinct())
    accrued = 0
    for product_code, currency in products:
        rate = rate_on(product_code, currency, business_date)
        if rate is None or rate.annual_rate == 0:
            continue
        accounts = Account.objects.filter(
            product_code=product_code,
            currency=currency,
            status__in=[Account.OPEN, Account.DEBIT_FROZEN, Account.FROZEN],
        ).exclude(accruals__business_date=business_date)
        # The day's closing balance: its snapshot when taken, else the live balance.
        snapshots = {
            account_id: credits - debits
            for account_id, credits, debits in BalanceSnapshot.objects.filter(
                business_date=business_date, account__in=accounts
            ).values_list("account_id", "credits_posted", "debits_posted")
        }
        rows = []
        for account in accounts.iterator(chunk_size=2000):
            balance = account.posted_balance
            if account.pk in snapshots:
                net = snapshots[account.pk]
                balance = net if account.normal_credit else -net
            if balance <= 0:
                continue
            amount = Decimal(balance) * rate.annual_rate / Decimal(rate.day_count)
            rows.append(
                InterestAccrual(
                    account=account,
                    business_date=business_date,
                    balance=balance,
                    annual_rate=rate.annual_rate,
                    amount=amount.quantize(Decimal("1E-10"), rounding=decimal.ROUND_HALF_EVEN),
                )
            )
        InterestAccrual.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        accrued += len(rows)
    return {"accrued": accrued}


def do_settle_interest(business_date: dt.date) -> dict[str, int]:
    """Post the quarter's accrued interest (on a settlement date; otherwise nothing)."""
    if not is_settlement_date(business_date):
        return {"settled": 0}
    pending = (
        InterestAccrual.objects.filter(settled_by__isnull=True, business_date__lte=business_date)
        .select_related("account")
        .order_by("account_id", "business_date")
    )
    per_account: dict[int, list[InterestAccrual]] = defaultdict(list)
    for accrual in pending:
        per_account[accrual.account_id].append(accrual)
    items: list[tuple[TransferIn, list[InterestAccrual]]] = []
    totals: dict[str, int] = defaultdict(int)
    for accruals in per_account.values():
        account = accruals[0].account
        rate = rate_on(account.product_code, account.currency, business_date)
        mode = ROUNDING_MODES[rate.rounding if rate else "ROUND_HALF_UP"]
        exact = sum((a.amount for a in accruals), Decimal(0))
        minor = int(exact.quantize(Decimal(1), rounding=mode))
        transfer_id = uuid.uuid5(INTEREST_NAMESPACE, f"{account.public_id}:{business_date}")
        if minor <= 0:
            continue
        expense = get_chart_account(f"expense.interest.{account.currency}")
        items.append(
            (
                TransferIn(
                    transfer_id=transfer_id,
                    debit_account=expense.public_id,
                    credit_account=account.public_id,
                    amount=minor,
                    currency=account.currency,
                    code="interest",
                    reference=f"interest to {business_date}",
                    metadata={"accrued_exact": str(exact), "days": len(accruals)},
                ),
                accruals,
            )
        )
    settled = 0
    for start in range(0, len(items), 8000):
        chunk = items[start : start + 8000]
        with transaction.atomic():
            results = do_create_transfers([item for item, _ in chunk])
            for result, (item, accruals) in zip(results, chunk, strict=True):
                if not result.ok:
                    continue  # e.g. a closed account: its accruals stay for a later settlement
                InterestAccrual.objects.filter(pk__in=[a.pk for a in accruals]).update(
                    settled_by=item.transfer_id
                )
                totals[item.currency] += item.amount or 0
                settled += 1
    if settled:
        record_event(
            InterestSettled(
                business_date=business_date.isoformat(), accounts=settled, total=dict(totals)
            )
        )
    return {"settled": settled}
