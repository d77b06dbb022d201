"""System endpoints: health, and the amount helpers receipts and partners use."""

from __future__ import annotations

import datetime as dt

from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict

from rongshu import __version__
from rongshu.api.base import command
from rongshu.kernel import clock
from rongshu.kernel.errors import PartnerUnavailable
from rongshu.kernel.money import Money, chinese_uppercase, format_money

router = Router(tags=["system"])


class Health(Schema):
    status: str
    version: str
    database: str
    business_date: dt.date


@router.get("/health", response=Health, summary="Liveness and database check")
def health(request: HttpRequest) -> Health:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        business_date = clock.get_business_date()
    except DatabaseError as exc:
        raise PartnerUnavailable("The database is not reachable.", code="database_down") from exc
    return Health(
        status="ok", version=__version__, database=connection.vendor, business_date=business_date
    )


class AmountIn(Schema):
    model_config = ConfigDict(extra="forbid")
    amount: str
    currency: str = "CNY"


class AmountOut(Schema):
    amount: str
    currency: str
    minor_units: int
    formatted_zh: str
    formatted_en: str
    uppercase: str | None


@router.post(
    "/tools/amount-in-words",
    response=AmountOut,
    summary="Validate an amount and write it out (大写金额) for a receipt",
)
@command()
def amount_in_words(request: HttpRequest, payload: AmountIn) -> AmountOut:
    money = Money.parse(payload.amount, payload.currency)
    return AmountOut(
        amount=money.amount_str(),
        currency=money.currency,
        minor_units=money.minor,
        formatted_zh=format_money(money, "zh-hans"),
        formatted_en=format_money(money, "en"),
        uppercase=chinese_uppercase(money) if money.currency == "CNY" else None,
    )
