"""Lifepay builders: the demo catalogue, a customer with a funded account, a fixed clock
inside business hours (no cut-off, no maintenance window)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from rongshu.kernel import clock
from rongshu.ledger import services as ledger
from rongshu.lifepay import catalogue, services
from rongshu.lifepay.models import Biller
from tests.payments.conftest import Payer, make_payer

NOON = dt.datetime(2026, 11, 10, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


@pytest.fixture
def lifepay_world(db: Any) -> Iterator[None]:
    ledger.do_create_chart_of_accounts(("CNY",))
    services.do_load_catalogue()
    clock.do_set_business_date(dt.date(2026, 11, 10))
    with clock.frozen_time(NOON):
        yield


def payer(balance: int = 10_000_00) -> Payer:
    return make_payer(balance=balance)


def biller(city: str = "440300", item: str = "electricity") -> Biller:
    return Biller.objects.select_related("item", "city").get(code=catalogue.biller_code(city, item))


def account_for(b: Biller, index: int = 1) -> str:
    from rongshu.lifepay.simulator import unknown_at_biller

    while True:
        number = catalogue.sample_account(b.account_format, index)
        if not unknown_at_biller(number):
            return number
        index += 7919
