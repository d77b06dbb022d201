"""Many customers pay one dynamic QR at the same moment (threads, each its own database
connection): exactly one order is made and paid, every other payer is told the code is
already paid, and no one else's money moves (payments.dynamic_qr: the row lock and the
conditional UPDATE)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from rongshu.payments import services
from rongshu.payments.errors import QrAlreadyPaid
from rongshu.payments.models import DynamicQr, PaymentOrder
from tests.payments.conftest import balance, cny, make_payer

PAYERS = 8


@pytest.mark.django_db(transaction=True)
def test_racing_payers_of_one_dynamic_qr_make_exactly_one_order() -> None:
    shop = make_payer(name="小店", balance=0)
    services.do_create_merchant(
        merchant_code="MRACE1",
        name="Race Shop",
        city="Beijing",
        ledger_account_id=shop.account.public_id,
    )
    issued = services.do_issue_dynamic_qr(
        merchant_code="MRACE1", amount=cny("42.00"), bill_number="RACE-1", actor="test:cashier"
    )
    payers = [make_payer(name="王" + "一二三四五六七八"[i], balance=100_00) for i in range(PAYERS)]
    start = threading.Barrier(PAYERS)
    paid: list[uuid.UUID] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pay(index: int) -> None:
        payer = payers[index]
        try:
            start.wait()
            for _attempt in range(50):
                try:
                    view = services.do_pay_merchant_qr(
                        payer.principal,
                        payload=issued.payload,
                        debit_account_id=payer.account.public_id,
                        idempotency_key=f"race-{index}",
                    )
                except QrAlreadyPaid as exc:
                    with lock:
                        refused.append(exc.code)
                    return
                except Exception as exc:  # SQLite under load: "database is locked"
                    if "locked" not in str(exc):
                        raise
                    continue
                with lock:
                    paid.append(view.order_id)
                return
            raise AssertionError("never got through")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(PAYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(paid) == 1
    assert refused == ["qr_already_paid"] * (PAYERS - 1)
    row = DynamicQr.objects.get(reference=issued.reference)
    assert row.state == DynamicQr.PAID
    assert row.order is not None and row.order.public_id == paid[0]
    assert PaymentOrder.objects.filter(rail="qr").count() == 1
    assert balance(shop.account) == 42_00
    assert sorted(balance(p.account) for p in payers) == [58_00] + [100_00] * (PAYERS - 1)
