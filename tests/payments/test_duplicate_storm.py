"""Issue 5: 1,000 concurrent submissions of 100 orders with duplicate keys → exactly 100
orders and 100 ledger postings; every submission of a key answers the same order."""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from django.db import connection

from rongshu.ledger import queries as ledger_queries
from rongshu.payments import services
from rongshu.payments.models import PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import balance, cny, make_payer

KEYS, REPEATS = 100, 10


@pytest.mark.django_db(transaction=True)
def test_duplicate_storm_applies_each_order_exactly_once() -> None:
    payer = make_payer(balance=10_000_00)
    payee = make_payer(name="李四", balance=0)
    request = PaymentRequest(
        payer.account.public_id, cny("10.00"), payee_ledger_account_id=payee.account.public_id
    )
    submissions = [f"storm-{i:03d}" for i in range(KEYS)] * REPEATS
    random.Random(7).shuffle(submissions)
    threads_n = 8 if connection.vendor == "postgresql" else 4
    answers: dict[str, set[uuid.UUID]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(chunk: list[str]) -> None:
        try:
            for key in chunk:
                for _attempt in range(50):
                    try:
                        view = services.do_create_payment(
                            payer.principal, request, idempotency_key=key
                        )
                    except Exception as exc:  # SQLite under load: "database is locked"
                        if "locked" not in str(exc):
                            raise
                        continue
                    with lock:
                        answers.setdefault(key, set()).add(view.order_id)
                    break
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # this thread's own: connections persist (CONN_MAX_AGE)

    chunks = [submissions[i::threads_n] for i in range(threads_n)]
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(answers) == KEYS
    assert all(len(orders) == 1 for orders in answers.values())  # every repeat: same order
    orders = PaymentOrder.objects.filter(customer_id=payer.customer_id)
    assert orders.count() == KEYS
    assert set(orders.values_list("state", flat=True)) == {"settled"}
    payee_lines = list(ledger_queries.iter_statement(payee.account.public_id))
    assert len(payee_lines) == KEYS  # exactly one posting per order
    assert balance(payee.account) == KEYS * 10_00
