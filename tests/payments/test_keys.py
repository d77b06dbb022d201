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


def test_losing_the_race_on_the_key_answers_the_winning_order(monkeypatch: Any) -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    req = PaymentRequest(
        payer.account.public_id, cny("7.00"), payee_ledger_account_id=payee.account.public_id
    )
    winner = services.do_create_payment(payer.principal, req, idempotency_key="k-race")
    real = services._existing
    calls: list[str] = []

    def blind_first(*args: Any) -> Any:
        calls.append("x")
        return None if len(calls) == 1 else real(*args)  # the first look misses (the race)

    monkeypatch.setattr(services, "_existing", blind_first)
    again = services.do_create_payment(payer.principal, req, idempotency_key="k-race")
    assert again.order_id == winner.order_id
    assert len(calls) == 2
    assert PaymentOrder.objects.count() == 1
    assert balance(payee.account) == 7_00
