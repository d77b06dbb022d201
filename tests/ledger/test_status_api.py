"""Account status over REST and in the console: freeze, four-eyes unfreeze, close."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from rongshu.identity.types import Action, Role
from rongshu.kernel.models import AuditEntry, OutboxEvent
from rongshu.kernel.outbox import dispatch_pending, handlers_for
from rongshu.ledger import handlers, services
from rongshu.ledger.models import Account
from rongshu.ledger.types import FROZEN_STATUSES, UNFREEZE_ACTION
from tests.identity.builders import make_customer, make_staff, staff_client
from tests.ledger.conftest import fresh, make_account, make_bank_account, tr

pytestmark = pytest.mark.django_db
URL = "/api/v1/ledger"


def client_for(role: str, **kw: Any) -> Client:
    user_id = make_staff(role, **kw).user_id
    assert user_id is not None
    return staff_client(user_id)


def call(client: Client, path: str, body: Any) -> Any:
    return client.post(f"{URL}{path}", data=json.dumps(body), content_type="application/json")


def transfer(client: Client, debit: Account, credit: Account, amount: str = "1.00") -> str:
    body = {
        "transfers": [
            {
                "id": str(uuid.uuid4()),
                "debit_account_id": str(debit.public_id),
                "credit_account_id": str(credit.public_id),
                "amount": amount,
                "currency": "CNY",
                "code": "test",
            }
        ]
    }
    response = call(client, "/transfers", body)
    assert response.status_code == 200
    return str(response.json()["results"][0]["result"])


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.fixture
def funded() -> tuple[Account, Account]:
    bank, account = make_bank_account(), make_account()
    services.do_create_transfer(tr(bank, account, 10_000))
    return bank, account


# ------------------------------------------------------------------ freeze
def test_debit_freeze_refuses_debits_and_a_full_freeze_refuses_credits(
    funded: tuple[Account, Account],
) -> None:
    bank, account = funded
    teller = client_for(Role.TELLER)
    path = f"/accounts/{account.public_id}/freeze"
    response = call(teller, path, {"mode": "debit", "reason": "法院冻结 (2026) 京01执123号"})
    assert response.status_code == 200
    assert response.json()["status"] == "debit_frozen"
    assert transfer(teller, account, bank) == "debit_account_frozen"
    assert transfer(teller, bank, account) == "created"  # credits still arrive
    problem(call(teller, path, {"mode": "debit", "reason": "again"}), 409, "account_status_invalid")

    assert call(teller, path, {"mode": "full", "reason": "full"}).json()["status"] == "frozen"
    assert transfer(teller, bank, account) == "credit_account_frozen"
    entry = AuditEntry.objects.filter(action="ledger.account_frozen").get()
    assert entry.object_id == str(account.public_id) and entry.actor.startswith("staff:")
    assert OutboxEvent.objects.filter(event_type="ledger.AccountStatusChanged").count() == 2


def test_freeze_input_is_strict(funded: tuple[Account, Account]) -> None:
    _, account = funded
    teller = client_for(Role.TELLER)
    path = f"/accounts/{account.public_id}/freeze"
    problem(call(teller, path, {"mode": "partial", "reason": "x"}), 422, "validation_failed")
    problem(call(teller, path, {"mode": "full", "reason": "  "}), 422, "validation_failed")
    problem(call(teller, path, {"mode": "full"}), 422, "validation_failed")
    problem(
        call(teller, path, {"mode": "full", "reason": "x", "extra": 1}), 422, "validation_failed"
    )
    problem(call(teller, f"/accounts/{uuid.uuid4()}/freeze", {"mode": "full", "reason": "x"}), 404,
            "account_not_found")  # fmt: skip
    assert fresh(account).status == Account.OPEN


# ------------------------------------------------------------------ unfreeze (four-eyes)
def test_unfreeze_needs_a_second_approver(funded: tuple[Account, Account]) -> None:
    bank, account = funded
    services.do_freeze_account(account.public_id, actor="staff:x", reason="court order")
    path = f"/accounts/{account.public_id}/unfreeze"
    manager = client_for(Role.BRANCH_MANAGER)
    response = call(manager, path, {"reason": "court order lifted"})
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "pending" and body["action"] == "account.unfreeze"
    approval_id = body["approval_id"]
    dispatch_pending()
    assert fresh(account).status == Account.FROZEN  # nothing happens before the decision

    decide = f"/api/v1/identity/approvals/{approval_id}/approve"
    own = manager.post(decide, data="{}", content_type="application/json")
    problem(own, 422, "self_approval")
    teller = client_for(Role.TELLER)  # may not decide unfreezes
    assert teller.post(decide, data="{}", content_type="application/json").status_code == 403
    dispatch_pending()
    assert fresh(account).status == Account.FROZEN

    risk = client_for(Role.RISK_OFFICER)
    approved = risk.post(decide, data='{"note": "ok"}', content_type="application/json")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    dispatch_pending()
    assert fresh(account).status == Account.OPEN
    unfrozen = AuditEntry.objects.get(action="ledger.account_unfrozen")
    assert unfrozen.actor == f"approval:{approval_id}"
    assert "court order lifted" in unfrozen.data["reason"]
    assert transfer(teller, account, bank) == "created"

    # Redelivering the decision changes nothing (the handler is idempotent), even after the
    # account was frozen again by a new order.
    event = OutboxEvent.objects.get(event_type="identity.ApprovalDecided")
    handlers.apply_approved_unfreeze(event)
    services.do_freeze_account(account.public_id, actor="staff:x", reason="a new order")
    handlers.apply_approved_unfreeze(event)
    assert fresh(account).status == Account.FROZEN
    assert AuditEntry.objects.filter(action="ledger.account_unfrozen").count() == 1


def test_a_rejected_unfreeze_leaves_the_account_frozen(funded: tuple[Account, Account]) -> None:
    _, account = funded
    services.do_freeze_account(account.public_id, actor="staff:x", reason="x", debits_only=True)
    response = call(client_for(Role.RISK_OFFICER), f"/accounts/{account.public_id}/unfreeze",
                    {"reason": "please"})  # fmt: skip
    approval_id = response.json()["approval_id"]
    manager = client_for(Role.BRANCH_MANAGER)
    rejected = manager.post(
        f"/api/v1/identity/approvals/{approval_id}/reject",
        data='{"note": "documents missing"}',
        content_type="application/json",
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    dispatch_pending()
    assert fresh(account).status == Account.DEBIT_FROZEN


def test_unfreeze_refuses_an_open_account_and_the_roles_without_the_right() -> None:
    account = make_account()
    path = f"/accounts/{account.public_id}/unfreeze"
    problem(call(client_for(Role.BRANCH_MANAGER), path, {"reason": "x"}), 409,
            "account_status_invalid")  # fmt: skip
    services.do_freeze_account(account.public_id, actor="staff:x", reason="x")
    for role in (Role.TELLER, Role.RELATIONSHIP_MANAGER, Role.AUDITOR, Role.ADMINISTRATOR):
        problem(call(client_for(role), path, {"reason": "x"}), 403, "permission_denied")
    problem(call(client_for(Role.BRANCH_MANAGER), f"/accounts/{uuid.uuid4()}/unfreeze",
                 {"reason": "x"}), 404, "account_not_found")  # fmt: skip


def test_the_handler_ignores_other_decisions() -> None:
    assert UNFREEZE_ACTION == Action.ACCOUNT_UNFREEZE
    assert {Account.FROZEN, Account.DEBIT_FROZEN} == FROZEN_STATUSES
    names = [n for n, _ in handlers_for("identity.ApprovalDecided")]
    assert "ledger.apply_approved_unfreeze" in names
    account = make_account()
    services.do_freeze_account(account.public_id, actor="staff:x", reason="x")
    base = {
        "approval_id": str(uuid.uuid4()),
        "action": "account.unfreeze",
        "object_type": "ledger.account",
        "object_id": str(account.public_id),
        "approved": True,
        "details": {},
    }
    for change in (
        {"approved": False},
        {"action": "loan.write_off"},
        {"object_type": "account"},
        {"object_id": "not-a-uuid"},
        {"object_id": str(uuid.uuid4())},
    ):
        handlers.apply_approved_unfreeze(OutboxEvent(payload={**base, **change}))
        assert fresh(account).status == Account.FROZEN
    handlers.apply_approved_unfreeze(OutboxEvent(payload=base))
    assert fresh(account).status == Account.OPEN


# ------------------------------------------------------------------ close
def test_close_needs_zero_balance_and_no_holds(funded: tuple[Account, Account]) -> None:
    bank, account = funded
    teller = client_for(Role.TELLER)
    path = f"/accounts/{account.public_id}/close"
    problem(call(teller, path, {"reason": "customer request"}), 422, "account_balance_not_zero")
    services.do_create_transfer(tr(account, bank, 9_000))
    hold = tr(account, bank, 1_000, kind="pending")
    services.do_create_transfer(hold)  # zero available, a hold
    problem(call(teller, path, {"reason": "customer request"}), 422, "account_balance_not_zero")
    services.do_create_transfer(tr(account, bank, None, kind="void", pending_id=hold.transfer_id))
    services.do_create_transfer(tr(account, bank, 1_000))
    response = call(teller, path, {"reason": "customer request"})
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert AuditEntry.objects.filter(action="ledger.account_closed").count() == 1
    assert transfer(teller, bank, account) == "credit_account_closed"
    problem(call(teller, path, {"reason": "again"}), 409, "account_status_invalid")
    freeze = call(teller, f"/accounts/{account.public_id}/freeze", {"mode": "full", "reason": "x"})
    problem(freeze, 409, "account_status_invalid")


def test_a_frozen_account_cannot_be_closed() -> None:
    account = make_account()
    services.do_freeze_account(account.public_id, actor="staff:x", reason="x")
    response = call(client_for(Role.RISK_OFFICER), f"/accounts/{account.public_id}/close",
                    {"reason": "x"})  # fmt: skip
    problem(response, 409, "account_status_invalid")


def test_status_changes_are_denied_without_the_permission() -> None:
    account = make_account()
    freeze, close = f"/accounts/{account.public_id}/freeze", f"/accounts/{account.public_id}/close"
    for role in (Role.RELATIONSHIP_MANAGER, Role.AUDITOR, Role.ADMINISTRATOR):
        who = client_for(role)
        problem(call(who, freeze, {"mode": "full", "reason": "x"}), 403, "permission_denied")
        problem(call(who, close, {"reason": "x"}), 403, "permission_denied")
    customer = make_customer()
    assert customer.user_id is not None
    as_customer = staff_client(customer.user_id)
    assert call(as_customer, freeze, {"mode": "full", "reason": "x"}).status_code == 403
    problem(call(Client(), close, {"reason": "x"}), 401, "unauthenticated")
    assert fresh(account).status == Account.OPEN
    denials = AuditEntry.objects.filter(action="identity.permission_denied")
    assert {e.data["action"] for e in denials} == {"account.freeze"}


# ------------------------------------------------------------------ console
def page(client: Client, account: Account) -> str:
    response = client.get(f"/console/ledger/accounts/{account.public_id}/")
    assert response.status_code == 200
    return str(response.content.decode())


def form(client: Client, account: Account, **data: str) -> Any:
    return client.post(
        f"/console/ledger/accounts/{account.public_id}/", data, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )


def test_console_forms_follow_the_permissions(funded: tuple[Account, Account]) -> None:
    _, account = funded
    teller, manager = client_for(Role.TELLER), client_for(Role.BRANCH_MANAGER)
    html = page(teller, account)
    assert 'value="freeze"' in html and 'value="close"' in html
    assert 'value="unfreeze"' not in html and "csrfmiddlewaretoken" in html
    auditor = client_for(Role.AUDITOR)
    html = page(auditor, account)
    assert 'value="freeze"' not in html and 'value="close"' not in html
    assert form(auditor, account, op="freeze", mode="full", reason="x").status_code == 403
    assert fresh(account).status == Account.OPEN

    response = form(teller, account, op="freeze", mode="full", reason="法院冻结")
    assert response.status_code == 302
    assert fresh(account).status == Account.FROZEN
    assert "账户已冻结" in teller.get(response["Location"]).content.decode()
    html = page(manager, account)
    assert 'value="unfreeze"' in html and 'value="close"' not in html
    assert form(teller, account, op="unfreeze", reason="x").status_code == 403

    response = form(manager, account, op="unfreeze", reason="解除冻结")
    assert "另一位员工审批" in manager.get(response["Location"]).content.decode()
    assert fresh(account).status == Account.FROZEN  # until a second staff member approves


def test_console_shows_friendly_errors(funded: tuple[Account, Account]) -> None:
    _, account = funded
    teller = client_for(Role.TELLER)
    response = form(teller, account, op="close", reason="客户申请")
    html = teller.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "账户余额为零且无冻结（预授权）时方可销户。" in html
    assert fresh(account).status == Account.OPEN
    response = form(teller, account, op="freeze", mode="debit", reason="   ")
    assert "请填写原因" in teller.get(response["Location"]).content.decode()
    assert fresh(account).status == Account.OPEN
    assert form(teller, account, op="explode", reason="x").status_code == 404


def test_console_forms_need_the_csrf_token() -> None:
    account = make_account()
    user_id = make_staff(Role.TELLER).user_id
    assert user_id is not None
    strict = staff_client(user_id)
    strict.handler.enforce_csrf_checks = True
    response = strict.post(
        f"/console/ledger/accounts/{account.public_id}/", {"op": "freeze", "reason": "x"}
    )
    assert response.status_code == 403
    assert fresh(account).status == Account.OPEN
