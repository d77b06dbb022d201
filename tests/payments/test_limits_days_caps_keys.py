"""Limits are given back to the day (and year) the order consumed them, also when it fails
after midnight; IBPS refuses an explicit request above its cap; a customer's idempotency
key cannot take the keys the bank uses for orders on the customer's behalf."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from rongshu.kernel import clock
from rongshu.kernel.errors import InvalidInput
from rongshu.payments import services
from rongshu.payments.models import LimitUsage, PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import FakeClearing, cny, make_payer, step_up

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
BANK, OTHER = "102100099996", "6222020000000001"


def _interbank(payer, amount: str = "1000.00", network: str = ""):  # type: ignore[no-untyped-def]
    return services.do_create_payment(
        payer.principal,
        PaymentRequest(
            payer.account.public_id,
            cny(amount),
            payee_account_number=OTHER,
            payee_name="李四",
            payee_bank_code=BANK,
            network=network,
        ),
        idempotency_key=str(uuid.uuid4()),
    )


def _used(customer_id: uuid.UUID, period: str, starts: dt.date) -> int:
    row = LimitUsage.objects.filter(
        customer_id=customer_id, channel="api", period=period, starts_on=starts, currency="CNY"
    ).first()
    return row.used_minor if row else 0


# ------------------------------------------------------------------ limits released on another day
def test_rejection_after_midnight_releases_the_day_the_order_consumed(
    clearing: FakeClearing,
) -> None:
    """An interbank order made at 23:30 Asia/Shanghai and rejected at 00:30 must give its
    usage back to the day it was counted on, not to the next day (where it hands the customer
    room that was never used: here they pay ¥21,000 against the ¥20,000 daily limit)."""
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    today = clock.local_today()
    late = dt.datetime.combine(today, dt.time(23, 30), SH)
    after_midnight = late + dt.timedelta(hours=1)
    day1, day2 = late.date(), after_midnight.date()
    with clock.frozen_time(late):
        view = _interbank(payer)
        assert services.do_submit_order(view.order_id) == "submitted"
    assert _used(payer.customer_id, "day", day1) == 1000_00
    with clock.frozen_time(after_midnight):
        for _ in range(4):  # ¥19,000 on day 2
            services.do_create_payment(
                payer.principal,
                PaymentRequest(
                    payer.account.public_id,
                    cny("4750.00"),
                    payee_ledger_account_id=payee.account.public_id,
                ),
            )
        clearing.push(str(view.order_id), "rejected", "AM04")
        clearing.process_inbound()
        assert PaymentOrder.objects.get(public_id=view.order_id).state == "rejected"
    # the usage was counted on day 1 and must be given back there; day 2 keeps its ¥19,000
    assert (_used(payer.customer_id, "day", day2), _used(payer.customer_id, "day", day1)) == (
        19_000_00,
        0,
    )


def test_return_in_the_new_year_releases_the_old_years_usage(clearing: FakeClearing) -> None:
    """Made on 31 December 23:30 Asia/Shanghai, returned on 1 January: the old year's usage
    (and its day's) must be given back; instead nothing is released (the new year's rows do
    not hold it) while the order is marked ``limits_released``."""
    payer = make_payer()
    year = clock.local_today().year
    made = dt.datetime(year, 12, 31, 23, 30, tzinfo=SH)
    returned = dt.datetime(year + 1, 1, 1, 0, 30, tzinfo=SH)
    with clock.frozen_time(made):
        view = _interbank(payer)
        services.do_submit_order(view.order_id)
        clearing.push(str(view.order_id), "settled")
        clearing.process_inbound()
    assert _used(payer.customer_id, "year", dt.date(year, 1, 1)) == 1000_00
    with clock.frozen_time(returned):
        clearing.push(str(view.order_id), "returned", "AC04")
        clearing.process_inbound()
    order = PaymentOrder.objects.get(public_id=view.order_id)
    assert order.state == "returned" and order.limits_released
    assert _used(payer.customer_id, "year", dt.date(year, 1, 1)) == 0
    assert _used(payer.customer_id, "day", dt.date(year, 12, 31)) == 0


# ------------------------------------------------------------------ IBPS above its cap
def test_ibps_requested_above_its_cap_is_refused(clearing: FakeClearing) -> None:
    """IBPS carries up to ¥50,000 (docs/payments.md) and its fee table ends there: asking for
    ``network="ibps"`` with ¥60,000 is refused (typed), not held on IBPS for no fee."""
    payer = make_payer(balance=200_000_00)
    step_up(payer)
    with pytest.raises(InvalidInput) as refused:
        _interbank(payer, "60000.00", network="ibps")
    assert refused.value.code == "network_cap_exceeded"
    assert not PaymentOrder.objects.exists()
    assert _interbank(payer, "50000.00", network="ibps").network == "ibps"  # at the cap


# ------------------------------------------------------------------ one key namespace for all rails
def test_a_customer_key_cannot_block_a_partners_quickpay_debit() -> None:
    """Quick-pay debits store their order in the customer's key space as
    ``quickpay:<merchant>:<client order id>``; a customer's own key in that form is refused,
    so it can neither block a partner's debit nor answer for it."""
    from tests.payments.test_quickpay import bound, debit, make_shop

    payer, other = make_payer(balance=1_000_00), make_payer(name="李四", balance=0)
    shop = make_shop()
    _view, token = bound(payer, shop)
    for key in (f"quickpay:{shop.code}:ORDER-1", "code:M1:1", "account-close:x"):
        with pytest.raises(InvalidInput) as refused:
            services.do_create_payment(
                payer.principal,
                PaymentRequest(
                    payer.account.public_id,
                    cny("1.00"),
                    payee_ledger_account_id=other.account.public_id,
                ),
                idempotency_key=key,
            )
        assert refused.value.code == "idempotency_key_reserved"
    paid = debit(shop, token, "10.00", "ORDER-1")
    assert paid.state == "settled"
