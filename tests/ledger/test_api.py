"""The ledger REST API: status codes, per-item results and problem+json errors."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import pytest
from django.test import Client

from rongshu.ledger.models import Account
from tests.identity.builders import make_customer, make_staff, staff_client
from tests.ledger.conftest import fresh, make_account, make_bank_account

pytestmark = pytest.mark.django_db
URL = "/api/v1/ledger"


@pytest.fixture
def staff() -> Client:
    """A teller: may view the ledger and post transfers."""
    return staff_client(make_staff("teller").user_id)


def post(client: Client, body: Any) -> Any:
    return client.post(f"{URL}/transfers", data=json.dumps(body), content_type="application/json")


def item(debit: Account | None, credit: Account | None, amount: str | None, **kw: Any) -> Any:
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "currency": "CNY", "code": "test"}
    if debit is not None:
        body["debit_account_id"] = str(debit.public_id)
    if credit is not None:
        body["credit_account_id"] = str(credit.public_id)
    if amount is not None:
        body["amount"] = amount
    body.update(kw)
    return body


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    assert {"title", "detail"} <= set(body)
    return body


def test_requires_a_staff_role_with_the_permission(api_client: Client) -> None:
    assert_problem(post(api_client, {"transfers": []}), 401, "unauthenticated")
    customer = make_customer()
    customer_client = staff_client(customer.user_id)  # a recorded web session, not staff
    account = make_account()
    denied = customer_client.get(f"{URL}/accounts/{account.public_id}")
    assert denied.status_code == 403
    auditor = staff_client(make_staff("auditor").user_id)
    assert auditor.get(f"{URL}/accounts/{account.public_id}").status_code == 200
    assert post(auditor, {"transfers": []}).status_code == 403  # view only


def test_batch_with_per_item_results(staff: Client) -> None:
    bank, a = make_bank_account(), make_account()
    first = item(bank, a, "12.34", reference="r1", metadata={"channel": "api"})
    body = {
        "transfers": [
            first,
            item(a, bank, "100.00"),  # overdraft
            item(bank, a, "0.001"),  # precision
            item(bank, a, "-1"),
            item(a, bank, "1.00", linked=True),
            item(a, bank, "999.00"),  # fails → its chain fails
            first,  # a replay inside the batch
        ]
    }
    response = post(staff, body)
    assert response.status_code == 200
    out = response.json()
    assert [r["result"] for r in out["results"]] == [
        "created",
        "exceeds_credits",
        "amount_precision",
        "amount_must_be_positive",
        "linked_event_failed",
        "exceeds_credits",
        "exists",
    ]
    assert (out["created"], out["exists"], out["failed"]) == (1, 1, 5)
    transfer = out["results"][0]["transfer"]
    assert transfer["amount"] == "12.34" and transfer["amount_minor"] == 1234
    assert transfer["metadata"] == {"channel": "api"}
    assert out["results"][1]["transfer"] is None
    assert fresh(a).credits_posted == 1234
    again = post(staff, {"transfers": [first]})
    assert again.json()["results"][0]["result"] == "exists"
    changed = {**first, "amount": "12.35"}
    assert post(staff, {"transfers": [changed]}).json()["results"][0]["result"] == (
        "exists_with_different_amount"
    )
    assert fresh(a).credits_posted == 1234


def test_two_phase_over_the_api(staff: Client) -> None:
    bank, a, m = make_bank_account(), make_account(), make_account()
    assert post(staff, {"transfers": [item(bank, a, "50.00")]}).status_code == 200
    hold = item(a, m, "20.00", kind="pending", timeout=300)
    post_it = {
        "id": str(uuid.uuid4()),
        "kind": "post",
        "pending_id": hold["id"],
        "currency": "CNY",
        "code": "capture",
        "amount": "15.00",
    }
    out = post(staff, {"transfers": [hold, post_it]}).json()
    assert [r["result"] for r in out["results"]] == ["created", "created"]
    account = staff.get(f"{URL}/accounts/{a.public_id}").json()
    assert account["balance"] == "35.00" and account["available"] == "35.00"
    assert account["debits_pending"] == "0.00"


def test_validation_and_size_errors(staff: Client) -> None:
    bank, a = make_bank_account(), make_account()
    bad = item(bank, a, "1.00", surprise=True)
    body = assert_problem(post(staff, {"transfers": [bad]}), 422, "validation_failed")
    assert body["errors"]
    assert_problem(post(staff, {"transfers": [item(bank, a, 1)]}), 422, "validation_failed")
    too_many = {"transfers": [item(bank, a, "1")] * 8191}
    response = post(staff, too_many)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/problem+json")


def test_account_and_404(staff: Client) -> None:
    a = make_account(name="张三 活期")
    response = staff.get(f"{URL}/accounts/{a.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(a.public_id) and body["status"] == "open"
    assert body["balance"] == "0.00" and body["kind"] == "liability"
    assert_problem(staff.get(f"{URL}/accounts/{uuid.uuid4()}"), 404, "account_not_found")
    assert_problem(staff.get(f"{URL}/accounts/{uuid.uuid4()}/statement"), 404, "account_not_found")


def test_statement_pages_and_csv(staff: Client) -> None:
    bank, a = make_bank_account(), make_account()
    items = [item(bank, a, f"{i}.00") for i in range(1, 6)]
    assert post(staff, {"transfers": items}).json()["created"] == 5
    page = staff.get(f"{URL}/accounts/{a.public_id}/statement?limit=3").json()
    assert [line["balance"] for line in page["lines"]] == ["1.00", "3.00", "6.00"]
    assert page["opening_balance"] == "0.00"
    page2 = staff.get(
        f"{URL}/accounts/{a.public_id}/statement?limit=3&cursor={page['next_cursor']}"
    ).json()
    assert [line["balance"] for line in page2["lines"]] == ["10.00", "15.00"]
    assert page2["next_cursor"] is None
    response = staff.get(f"{URL}/accounts/{a.public_id}/statement?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][-4:] == ["debit", "credit", "balance", "currency"]
    assert [r[-2] for r in rows[1:]] == ["1.00", "3.00", "6.00", "10.00", "15.00"]
    assert_problem(
        staff.get(f"{URL}/accounts/{a.public_id}/statement?limit=0"), 422, "validation_failed"
    )


def test_trial_balance(staff: Client) -> None:
    bank, a = make_bank_account(), make_account()
    post(staff, {"transfers": [item(bank, a, "7.00")]})
    body = staff.get(f"{URL}/trial-balance").json()
    assert body["balanced"] is True
    assert body["difference"]["CNY"] == "0.00"
