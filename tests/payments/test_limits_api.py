"""Limits and fees, concurrency past a daily limit, and idempotency over HTTP."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from rongshu.kernel.money import Money
from rongshu.payments import fastpath, limits, services
from rongshu.payments.errors import LimitExceeded
from rongshu.payments.models import PaymentOrder
from rongshu.payments.types import PaymentRequest
from tests.identity.builders import app_tokens, bearer
from tests.payments.conftest import balance, cny, make_payer


def test_fee_schedule_tiers() -> None:
    assert limits.fee_for("internal", cny("9999.00")) == cny("0")
    assert limits.fee_for("interbank", cny("5000.00"), "ibps") == cny("0")
    assert limits.fee_for("interbank", cny("5000.01"), "ibps") == cny("2.00")
    assert limits.fee_for("interbank", cny("100000.00"), "hvps") == cny("5.00")
    assert limits.fee_for("interbank", cny("100000.01"), "hvps") == cny("10.00")
    assert limits.fee_for("interbank", cny("900000.00"), "hvps") == cny("50.00")


@pytest.mark.django_db
def test_daily_limit_refuses_the_payment_that_would_pass_it() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    req = PaymentRequest(
        payer.account.public_id, cny("4000.00"), payee_ledger_account_id=payee.account.public_id
    )
    for _ in range(5):  # 5 × 4,000 = the ¥20,000 daily limit
        services.do_create_payment(payer.principal, req)
    with pytest.raises(LimitExceeded) as caught, transaction.atomic():
        services.do_create_payment(
            payer.principal,
            PaymentRequest(
                payer.account.public_id,
                cny("0.01"),
                payee_ledger_account_id=payee.account.public_id,
            ),
        )
    assert caught.value.data["limit"] == "daily"
    assert balance(payee.account) == 20_000_00


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("warm", [False, True])
def test_concurrent_payments_never_pass_the_daily_limit(
    warm: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 ¥1,000 payments against a ¥20,000 daily limit: exactly 20 succeed. ``warm``: the
    first is paid alone, so the customer's limit rows exist before the other 49 race; else
    all 50 race to create them (on PostgreSQL the one-call order creates missing rows:
    docs/decisions/0006, third addendum)."""
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    req = PaymentRequest(
        payer.account.public_id, cny("1000.00"), payee_ledger_account_id=payee.account.public_id
    )
    outcomes: list[str] = []
    answers: list[int] = []  # what the one-call order answered (PostgreSQL)
    one_call = fastpath.internal_order

    def counted(*args: Any, **kwargs: Any) -> int:
        answer = one_call(*args, **kwargs)
        answers.append(answer)
        return answer

    monkeypatch.setattr(fastpath, "internal_order", counted)
    if warm:
        services.do_create_payment(payer.principal, req)
        outcomes.append("ok")
    lock = threading.Lock()
    threads_n = 8 if connection.vendor == "postgresql" else 4

    def work(count: int) -> None:
        try:
            for _ in range(count):
                for _attempt in range(50):
                    try:
                        services.do_create_payment(payer.principal, req)
                        result = "ok"
                    except LimitExceeded:
                        result = "limit"
                    except Exception as exc:  # SQLite "database is locked": retry
                        if "locked" not in str(exc):
                            raise
                        continue
                    with lock:
                        outcomes.append(result)
                    break
        finally:
            connection.close()  # this thread's own: connections persist (CONN_MAX_AGE)

    left = 50 - len(outcomes)
    per = [left // threads_n + (1 if i < left % threads_n else 0) for i in range(threads_n)]
    threads = [threading.Thread(target=work, args=(n,)) for n in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 50
    assert outcomes.count("ok") == 20
    assert balance(payee.account) == 20_000_00
    assert PaymentOrder.objects.filter(state="settled").count() == 20
    if connection.vendor == "postgresql":
        if warm:
            # every payment within the limit was the one call's, the first (which created
            # the limit rows) too; the 30 over it were left to the general path, which
            # refused them
            assert answers.count(fastpath.DONE) == 20
            assert answers.count(fastpath.GENERAL) == 30
        else:
            # concurrent first payments: the one that created the limit rows was the one
            # call's; one that found them created meanwhile went the general way
            assert 1 <= answers.count(fastpath.DONE) <= 20


@pytest.mark.django_db
def test_idempotent_order_over_http() -> None:
    payer, payee = make_payer(), make_payer(name="李四", balance=0)
    token = app_tokens(payer.customer, "device-http-000000001").access_token
    client = Client()
    body = {
        "debit_account_id": str(payer.account.public_id),
        "amount": "88.80",
        "payee_account_id": str(payee.account.public_id),
        "remittance_info": "午餐",
    }
    key = str(uuid.uuid4())

    def post(data: dict[str, object], k: str | None) -> object:
        headers = bearer(token)
        if k:
            headers["HTTP_IDEMPOTENCY_KEY"] = k
        return client.post(
            "/api/v1/payments/orders",
            data=json.dumps(data),
            content_type="application/json",
            **headers,
        )

    first = post(body, key)
    assert first.status_code == 201, first.content  # type: ignore[attr-defined]
    # the created order answers with the history row stored with it, as a read would
    (created,) = first.json()["history"]  # type: ignore[attr-defined]
    assert (created["from_state"], created["to_state"], created["reason"]) == (
        "",
        "settled",
        "password",
    )
    assert created["actor"] == f"customer:{payer.customer.customer_id}"
    again = post(body, key)
    assert again.status_code == 201  # type: ignore[attr-defined]
    assert again["Idempotent-Replayed"] == "true"  # type: ignore[index]
    assert again.json()["id"] == first.json()["id"]  # type: ignore[attr-defined]
    reused = post({**body, "amount": "1.00"}, key)
    assert reused.status_code == 422  # type: ignore[attr-defined]
    assert reused.json()["code"] == "idempotency_key_reused"  # type: ignore[attr-defined]
    missing = post(body, None)
    assert missing.status_code == 400  # type: ignore[attr-defined]
    assert balance(payee.account) == 88_80
    order_id = first.json()["id"]  # type: ignore[attr-defined]
    mine = client.get(f"/api/v1/payments/orders/{order_id}", **bearer(token))
    assert mine.status_code == 200
    assert mine.json()["history"] == first.json()["history"]  # type: ignore[attr-defined]
    other = app_tokens(payee.customer, "device-http-000000002").access_token
    assert client.get(f"/api/v1/payments/orders/{order_id}", **bearer(other)).status_code == 404
    listed = client.get("/api/v1/payments/orders", **bearer(token)).json()
    assert [o["id"] for o in listed] == [order_id]
    assert Money.parse(listed[0]["amount"]["amount"], "CNY") == cny("88.80")


@pytest.mark.django_db
def test_idempotency_keys_belong_to_the_caller() -> None:
    """A bearer caller's key is scoped to that caller: a stored answer is replayed only to
    the principal who made it (never to a request without credentials or with another
    customer's token), and two customers may use the same key."""
    payer, payee = make_payer(), make_payer(name="李四")
    token = app_tokens(payer.customer, "device-scope-00000001").access_token
    other = app_tokens(payee.customer, "device-scope-00000002").access_token
    client = Client()
    body = json.dumps(
        {
            "debit_account_id": str(payer.account.public_id),
            "amount": "5.00",
            "payee_account_id": str(payee.account.public_id),
        }
    )
    key = "shared-key-1"

    def post(data: str, headers: dict[str, str]) -> Any:
        return client.post(
            "/api/v1/payments/orders",
            data=data,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
            **headers,
        )

    first = post(body, bearer(token))
    assert first.status_code == 201, first.content
    anonymous = post(body, {})
    assert anonymous.status_code == 401, anonymous.content
    assert "Idempotent-Replayed" not in anonymous
    own = post(
        json.dumps(
            {
                "debit_account_id": str(payee.account.public_id),
                "amount": "1.00",
                "payee_account_id": str(payer.account.public_id),
            }
        ),
        bearer(other),
    )
    assert own.status_code == 201, own.content  # the same key, another caller: a new order
    assert own.json()["id"] != first.json()["id"]
    stranger = post(body, bearer(other))  # the first caller's request under the other's key
    assert stranger.status_code == 422, stranger.content
    assert stranger.json()["code"] == "idempotency_key_reused"
    assert post(body, bearer(token))["Idempotent-Replayed"] == "true"
    assert PaymentOrder.objects.count() == 2
