"""Payment limits (per transaction, daily, yearly by channel and authentication level) and
fee schedules per rail.

Defaults are below; a deployment overrides them with ``RONGSHU_PAYMENT_LIMITS`` /
``RONGSHU_PAYMENT_FEES`` / ``RONGSHU_PAYMENT_STEP_UP_MINOR`` in settings. Daily and yearly
usage is consumed with one conditional ``UPDATE … SET used = used + amount WHERE used + amount
<= limit``: the database evaluates the condition on the row it locks, so concurrent payments
can never pass a limit together (SQLite serialises writers; PostgreSQL re-checks the WHERE
clause after waiting for the row lock, and the statement locks a customer's day row before
its year row: :func:`both_rows_sql`).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from rongshu.kernel import fastsql
from rongshu.kernel.money import Money
from rongshu.payments.errors import LimitExceeded
from rongshu.payments.models import LimitUsage

PASSWORD = "password"  # noqa: S105 - an auth level name; signed in, no one-time code for this payment
STEP_UP = "step_up"  # confirmed with an SMS one-time code
BINDING = "binding"  # a quick-pay debit through a binding confirmed with a one-time code
CHANNELS = ("api", "web", "qr")
CUSTOMER_LEVELS = (PASSWORD, STEP_UP)  # what a customer's own order can be authorised with


@dataclass(frozen=True)
class Limits:
    per_transaction: int  # minor units (CNY)
    daily: int
    yearly: int


# (channel, authentication level) → limits in fen.
DEFAULT_LIMITS: dict[tuple[str, str], Limits] = {
    ("api", PASSWORD): Limits(5_000_00, 20_000_00, 1_000_000_00),
    ("api", STEP_UP): Limits(500_000_00, 1_000_000_00, 20_000_000_00),
    ("web", PASSWORD): Limits(5_000_00, 20_000_00, 1_000_000_00),
    ("web", STEP_UP): Limits(500_000_00, 1_000_000_00, 20_000_000_00),
    ("qr", PASSWORD): Limits(1_000_00, 5_000_00, 200_000_00),
    ("qr", STEP_UP): Limits(5_000_00, 20_000_00, 500_000_00),
    ("quickpay", BINDING): Limits(50_000_00, 200_000_00, 5_000_000_00),  # over every binding
}
DEFAULT_STEP_UP_MINOR = 5_000_00  # above ¥5,000 a payment needs a one-time code


@dataclass(frozen=True)
class FeeTier:
    up_to: int | None  # minor units, inclusive; None: no upper bound
    fee: int


# Fee schedule per rail (and interbank network): the first tier the amount fits.
DEFAULT_FEES: dict[str, tuple[FeeTier, ...]] = {
    "internal": (FeeTier(None, 0),),
    "qr": (FeeTier(None, 0),),
    "quickpay": (FeeTier(None, 0),),  # paid by the merchant, not the customer
    "interbank:ibps": (FeeTier(5_000_00, 0), FeeTier(50_000_00, 2_00)),
    "interbank:hvps": (
        FeeTier(100_000_00, 5_00),
        FeeTier(500_000_00, 10_00),
        FeeTier(None, 50_00),
    ),
    "interbank:bulk": (FeeTier(None, 1_00),),
}


@functools.cache
def step_up_threshold() -> int:
    return int(getattr(settings, "RONGSHU_PAYMENT_STEP_UP_MINOR", DEFAULT_STEP_UP_MINOR))


@functools.cache
def _limits_table() -> dict[tuple[str, str], Limits]:
    return {**DEFAULT_LIMITS, **getattr(settings, "RONGSHU_PAYMENT_LIMITS", {})}


@functools.cache
def _fee_table() -> dict[str, tuple[FeeTier, ...]]:
    return {**DEFAULT_FEES, **getattr(settings, "RONGSHU_PAYMENT_FEES", {})}


def _forget_settings(*, setting: str, **_kwargs: Any) -> None:
    """The three tables above are read once (an order reads them on its hot path); a
    changed setting (``override_settings``, tests) is read again."""
    if setting.startswith("RONGSHU_PAYMENT_"):
        for cached in (step_up_threshold, _limits_table, _fee_table):
            cached.cache_clear()


setting_changed.connect(_forget_settings, dispatch_uid="rongshu.payments.limits")


def needs_step_up(channel: str, amount_minor: int) -> bool:
    """A customer's payment needs a step-up above the step-up threshold, and above what
    ``channel`` allows with a password alone (QR: ¥1,000 by default, below the threshold)."""
    return (
        amount_minor > step_up_threshold()
        or amount_minor > limits_for(channel, PASSWORD).per_transaction
    )


def limits_for(channel: str, auth_level: str) -> Limits:
    return _limits_table()[(channel, auth_level)]


def check_within_reach(channel: str, amount: Money) -> None:
    """Refuse (:class:`LimitExceeded`, ``per_transaction``) an amount above the
    per-transaction limit of every authentication level a customer can reach on ``channel``
    (:data:`CUSTOMER_LEVELS`): no step-up could let it pass, so it is refused before the
    customer is asked for a one-time code. Reads no usage: daily and yearly limits are still
    consumed atomically by :func:`do_consume_limits`."""
    caps = {level: limits_for(channel, level).per_transaction for level in CUSTOMER_LEVELS}
    highest = max(caps, key=caps.__getitem__)
    if amount.minor > caps[highest]:
        raise LimitExceeded(
            "The amount is over the per-transaction limit.",
            data={"channel": channel, "auth_level": highest, "limit": "per_transaction"},
        )


def fee_for(rail: str, amount: Money, network: str = "") -> Money:
    key = f"{rail}:{network}" if network else rail
    for tier in _fee_table().get(key, (FeeTier(None, 0),)):
        if tier.up_to is None or amount.minor <= tier.up_to:
            return Money(tier.fee, amount.currency)
    return Money(0, amount.currency)


def _row(customer_id: uuid.UUID, channel: str, period: str, day: dt.date, currency: str) -> int:
    starts = day if period == "day" else day.replace(month=1, day=1)
    found = (
        LimitUsage.objects.filter(
            customer_id=customer_id,
            channel=channel,
            period=period,
            starts_on=starts,
            currency=currency,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LimitUsage.objects.create(
                customer_id=customer_id,
                channel=channel,
                period=period,
                starts_on=starts,
                currency=currency,
            ).pk
    except IntegrityError:  # a concurrent payment created it
        return LimitUsage.objects.get(
            customer_id=customer_id,
            channel=channel,
            period=period,
            starts_on=starts,
            currency=currency,
        ).pk


def both_rows_sql(*, where: str = "", compare: str = "<=") -> str:
    """PostgreSQL: the CTEs ``k`` and ``l`` of the one statement that adds an amount to a
    customer's day and year rows — each only where its ``used_minor`` stays ``compare`` its
    bound — and returns the periods changed (``SELECT period FROM l``): consuming and
    releasing here, in ``payments.fastpath`` and in the SQL function of migration 0009.

    The two rows are first locked in the order of their period, day then year (``ORDER BY …
    FOR UPDATE``). An ``UPDATE`` alone locks them in the order its scan meets them, which for
    any scan but one of the unique index is their order in the table; once an update had
    moved one row past the other, two payments of one customer could each hold one row and
    wait for the other — a deadlock (docs/decisions/0006, ninth addendum).

    Parameters: customer, channel, currency, day, year start (``where`` is appended to the
    rows' condition), then the amount, the day's bound and the year's."""
    quote = connection.ops.quote_name
    table, pk = fastsql.table(LimitUsage), quote("id")
    used, period, starts = quote("used_minor"), quote("period"), quote("starts_on")
    return (
        f"WITH k AS MATERIALIZED (SELECT {pk} FROM {table} "  # noqa: S608
        f"WHERE {quote('customer_id')} = %s::uuid AND {quote('channel')} = %s::varchar "
        f"AND {quote('currency')} = %s::varchar AND (({period} = 'day' AND {starts} = %s::date) "
        f"OR ({period} = 'year' AND {starts} = %s::date)){where} "
        f"ORDER BY {period} FOR UPDATE), "
        f"l AS (UPDATE {table} t SET {used} = t.{used} + %s::bigint FROM k "
        f"WHERE t.{pk} = k.{pk} AND ((t.{period} = 'day' AND t.{used} {compare} %s::bigint) "
        f"OR (t.{period} = 'year' AND t.{used} {compare} %s::bigint)) RETURNING t.{period}) "
    )


def _change_both(
    customer_id: uuid.UUID,
    channel: str,
    currency: str,
    day: dt.date,
    delta: int,
    room: tuple[int, int] | None,
) -> set[str]:
    """Add ``delta`` to the customer's day and year rows in ONE statement (on PostgreSQL
    :func:`both_rows_sql`, the rows locked day first; SQLite serialises writers); with
    ``room`` = (daily, yearly caps) only a row that stays within its cap changes, without it
    only one that stays ≥ 0. Returns the periods changed."""
    if room is not None:
        day_bound, year_bound = room[0] - delta, room[1] - delta
    else:
        day_bound = year_bound = -delta
    compare = "<=" if room is not None else ">="
    customer = fastsql.prep(LimitUsage, "customer_id", customer_id)
    day_on = fastsql.prep(LimitUsage, "starts_on", day)
    year_on = fastsql.prep(LimitUsage, "starts_on", day.replace(month=1, day=1))
    if connection.vendor == "postgresql":
        sql = both_rows_sql(compare=compare) + "SELECT period FROM l"  # noqa: S608
        params = [customer, channel, currency, day_on, year_on, delta, day_bound, year_bound]
    else:
        quote = connection.ops.quote_name
        used, period, starts = quote("used_minor"), quote("period"), quote("starts_on")
        sql = (
            f"UPDATE {fastsql.table(LimitUsage)} SET {used} = {used} + %s "  # noqa: S608
            f"WHERE {quote('customer_id')} = %s AND {quote('channel')} = %s "
            f"AND {quote('currency')} = %s "
            f"AND (({period} = 'day' AND {starts} = %s AND {used} {compare} %s) "
            f"OR ({period} = 'year' AND {starts} = %s AND {used} {compare} %s)) "
            f"RETURNING {period}"
        )
        params = [delta, customer, channel, currency, day_on, day_bound, year_on, year_bound]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def do_consume_limits(
    customer_id: uuid.UUID,
    channel: str,
    auth_level: str,
    amount: Money,
    day: dt.date,
    *,
    raised: frozenset[str] | None = None,
) -> None:
    """Check the per-transaction limit and consume daily and yearly usage atomically, or
    raise :class:`LimitExceeded` (in the caller's transaction: a refusal leaves no usage).
    ``raised``: the periods the caller's own statement already raised with the conditional
    UPDATE below (the PostgreSQL fast path, ``payments.fastpath``); only the others are
    done here."""
    limits = limits_for(channel, auth_level)
    data = {"channel": channel, "auth_level": auth_level}
    if amount.minor > limits.per_transaction:
        raise LimitExceeded(
            "The amount is over the per-transaction limit.",
            data={**data, "limit": "per_transaction"},
        )
    # One conditional UPDATE of both rows on their natural keys (no look-up of ids first).
    # A period it did not raise — its first payment, or a refusal — has its row looked up
    # (created if missing) and is tried once more on its own.
    if raised is None:
        raised = frozenset(
            _change_both(
                customer_id,
                channel,
                amount.currency,
                day,
                amount.minor,
                (limits.daily, limits.yearly),
            )
        )
    for period, cap in (("day", limits.daily), ("year", limits.yearly)):
        if period in raised:
            continue
        _row(customer_id, channel, period, day, amount.currency)
        updated = LimitUsage.objects.filter(
            customer_id=customer_id,
            channel=channel,
            period=period,
            starts_on=day if period == "day" else day.replace(month=1, day=1),
            currency=amount.currency,
            used_minor__lte=cap - amount.minor,
        ).update(used_minor=F("used_minor") + amount.minor)
        if updated != 1:
            raise LimitExceeded(
                f"The amount is over your {'daily' if period == 'day' else 'yearly'} limit.",
                data={**data, "limit": "daily" if period == "day" else "yearly"},
            )


def do_release_limits(customer_id: uuid.UUID, channel: str, amount: Money, day: dt.date) -> None:
    """Give usage back (a payment that was rejected or returned)."""
    _change_both(customer_id, channel, amount.currency, day, -amount.minor, None)


def used_today(customer_id: uuid.UUID, channel: str, day: dt.date, currency: str = "CNY") -> int:
    row = LimitUsage.objects.filter(
        customer_id=customer_id, channel=channel, period="day", starts_on=day, currency=currency
    ).first()
    return row.used_minor if row else 0
