"""The fast paths keep the one-by-one semantics: stored ids are read only when an answer could
depend on them, PostgreSQL's single transfer writes without a savepoint, and the outbox event
is dictionary-encoded. Also: one pending unfreeze request per account."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rongshu.identity.types import Role
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import handlers, services
from rongshu.ledger.errors import AccountStatusInvalid, UnfreezeAlreadyRequested
from rongshu.ledger.events import TransfersPosted, iter_transfers
from rongshu.ledger.models import Account, Transfer
from tests.ledger.conftest import fresh, make_account, tr

pytestmark = pytest.mark.django_db


def results(items: list) -> list[str]:  # type: ignore[type-arg]
    return [r.result for r in services.do_create_transfers(items)]


def test_a_replay_answers_exists_although_a_fresh_evaluation_would_refuse(bank: Account) -> None:
    a, b = make_account(), make_account()
    assert results([tr(bank, a, 100)]) == ["created"]
    spend = tr(a, b, 100)
    assert results([spend]) == ["created"]
    # Evaluated as new, the replay would be exceeds_credits (a is empty now): it must not be.
    assert results([spend]) == ["exists"]
    changed = tr(a, b, 99, transfer_id=spend.transfer_id)
    assert results([changed]) == ["exists_with_different_amount"]
    assert fresh(a).debits_posted == 100 and fresh(b).credits_posted == 100


def test_a_replayed_batch_answers_exists_everywhere_and_writes_nothing(bank: Account) -> None:
    accounts = [make_account() for _ in range(5)]
    items = [tr(bank, accounts[i % 5], 10 + i) for i in range(100)]  # COPY on PostgreSQL
    assert set(results(items)) == {"created"}
    before = (Transfer.objects.count(), fresh(bank).debits_posted)
    assert set(results(items)) == {"exists"}
    # Mixed: new items still apply, in order, around the stored ones.
    mixed = [items[0], tr(bank, accounts[0], 1), items[1]]
    assert results(mixed) == ["exists", "created", "exists"]
    assert (Transfer.objects.count(), fresh(bank).debits_posted) == (before[0] + 1, before[1] + 1)


def test_a_stored_id_that_differs_fails_its_linked_chain(bank: Account) -> None:
    a, b = make_account(), make_account()
    first = tr(bank, a, 50)
    assert results([first]) == ["created"]
    chain = [tr(bank, a, 51, transfer_id=first.transfer_id, linked=True), tr(bank, b, 5)]
    assert results(chain) == ["exists_with_different_linked", "linked_event_failed"]
    assert fresh(b).credits_posted == 0


def test_single_transfer_inside_a_transaction_needs_no_savepoint(bank: Account) -> None:
    a = make_account()
    assert connection.in_atomic_block  # the test's transaction, as a caller's would be
    with CaptureQueriesContext(connection) as captured:
        assert results([tr(bank, a, 7)]) == ["created"]
    sql = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        assert not [s for s in sql if "SAVEPOINT" in s], sql
        assert len(sql) == 3, sql  # lock, insert + balances, outbox
    assert fresh(a).credits_posted == 7
    event = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").latest("id")
    (item,) = list(iter_transfers(event.payload))
    assert item["credit_account"] == str(a.public_id) and item["amount"] == 7


def test_the_event_is_dictionary_encoded_and_the_first_format_still_reads(bank: Account) -> None:
    a, b = make_account(), make_account()
    outs = [r.transfer for r in services.do_create_transfers([tr(bank, a, 3), tr(bank, b, 4)])]
    payload = TransfersPosted.of([o for o in outs if o is not None]).payload()
    assert payload["format"] == 2 and len(payload["strings"]) == 6  # kind, 3 accounts, CNY, code
    decoded = list(iter_transfers(payload))
    assert [(t["debit_account"], t["credit_account"], t["amount"]) for t in decoded] == [
        (str(bank.public_id), str(a.public_id), 3),
        (str(bank.public_id), str(b.public_id), 4),
    ]
    old = {k: [t[s] for t in decoded] for k, s in [
        ("ids", "id"), ("kinds", "kind"), ("debit_accounts", "debit_account"),
        ("credit_accounts", "credit_account"), ("amounts", "amount"),
        ("currencies", "currency"), ("codes", "code"), ("pending_ids", "pending_id"),
    ]}  # fmt: skip
    assert list(iter_transfers(old)) == decoded


# ------------------------------------------------------------------ one unfreeze request
class _Approval:
    def __init__(self) -> None:
        self.public_id = uuid.uuid4()


def test_a_second_pending_unfreeze_request_is_refused_until_the_first_is_decided() -> None:
    account = make_account()
    with pytest.raises(AccountStatusInvalid):
        services.do_request_unfreeze(account.public_id, lambda status: _Approval())
    services.do_freeze_account(account.public_id, actor="staff:x", reason="court order")
    seen: list[str] = []

    def open_approval(status: str) -> _Approval:
        seen.append(status)
        return _Approval()

    first = services.do_request_unfreeze(account.public_id, open_approval)
    assert seen == ["frozen"] and fresh(account).pending_unfreeze == first.public_id
    with pytest.raises(UnfreezeAlreadyRequested) as err:
        services.do_request_unfreeze(account.public_id, open_approval)
    assert err.value.code == "unfreeze_already_requested" and err.value.status == 409
    assert seen == ["frozen"]  # no second approval was opened
    decided = {
        "approval_id": str(first.public_id),
        "action": "account.unfreeze",
        "object_type": "ledger.account",
        "object_id": str(account.public_id),
        "approved": False,
        "details": {},
    }
    handlers.apply_approved_unfreeze(OutboxEvent(payload=decided))  # rejected
    assert fresh(account).status == Account.FROZEN and fresh(account).pending_unfreeze is None
    second = services.do_request_unfreeze(account.public_id, open_approval)
    handlers.apply_approved_unfreeze(
        OutboxEvent(payload={**decided, "approval_id": str(second.public_id), "approved": True})
    )
    assert fresh(account).status == Account.OPEN and fresh(account).pending_unfreeze is None


def test_the_api_and_console_refuse_a_second_unfreeze_request() -> None:
    from rongshu.identity.models import ApprovalRequest
    from tests.ledger.test_status_api import call, client_for, form, problem

    account = make_account()
    services.do_freeze_account(account.public_id, actor="staff:x", reason="court order")
    path = f"/accounts/{account.public_id}/unfreeze"
    manager = client_for(Role.BRANCH_MANAGER)
    assert call(manager, path, {"reason": "lifted"}).status_code == 202
    problem(call(client_for(Role.RISK_OFFICER), path, {"reason": "again"}), 409,
            "unfreeze_already_requested")  # fmt: skip
    assert form(manager, account, op="unfreeze", reason="again").status_code == 302
    opened = ApprovalRequest.objects.filter(object_id=str(account.public_id))
    assert opened.count() == 1  # neither the API nor the console opened a second one
