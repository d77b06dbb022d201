"""Idempotency keys of payment orders: a key reused for another payee is refused, and a
submission that loses the race on the unique key answers the winner's order."""

from __future__ import annotations

from typing import Any

import pytest

from rongshu.payments import services
from rongshu.payments.errors import PaymentRefused
from rongshu.payments.models import PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.payments.conftest import balance, cny, make_payer

pytestmark = pytest.mark.django_db


def test_the_same_key_for_another_payee_is_refused() -> None:
    payer, a, b = (
        make_payer(),
        make_payer(name="李四", balance=0),
        make_payer(name="王五", balance=0),
    )
    to_a = PaymentRequest(
        payer.account.public_id, cny("5.00"), payee_ledger_account_id=a.account.public_id
    )
    to_b = PaymentRequest(
        payer.account.public_id, cny("5.00"), payee_ledger_account_id=b.account.public_id
    )
    services.do_create_payment(payer.principal, to_a, idempotency_key="k-payee")
    with pytest.raises(PaymentRefused) as refused:
        services.do_create_payment(payer.principal, to_b, idempotency_key="k-payee")
    assert refused.value.code == "idempotency_key_reused"
    assert (balance(a.account), balance(b.account)) == (5_00, 0)


def test_a_replay_is_answered_after_the_unique_key_refuses_it(monkeypatch: Any) -> None:
    # No look-up before the insert: the order row's unique key refuses the replay (as it
    # refuses a concurrent twin that lost the race), and only then is the stored order read.
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    req = PaymentRequest(
        payer.account.public_id, cny("7.00"), payee_ledger_account_id=payee.account.public_id
    )
    winner = services.do_create_payment(payer.principal, req, idempotency_key="k-race")
    real = services._existing
    calls: list[str] = []

    def counting(*args: Any) -> Any:
        calls.append("x")
        return real(*args)

    monkeypatch.setattr(services, "_existing", counting)
    again = services.do_create_payment(payer.principal, req, idempotency_key="k-race")
    assert again.order_id == winner.order_id
    assert len(calls) == 1
    assert PaymentOrder.objects.count() == 1
    assert balance(payee.account) == 7_00
    fresh = services.do_create_payment(payer.principal, req, idempotency_key="k-other")
    assert fresh.order_id != winner.order_id
    assert len(calls) == 1  # a new order is never looked up
