"""The fast paths keep the one-by-one semantics: stored ids are read only when an answer could
depend on them, PostgreSQL's single transfer writes without a savepoint, and the outbox event
is dictionary-encoded. Also: one pending unfreeze request per account."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rongshu.identity.types import Role
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import handlers, services
from rongshu.ledger.errors import AccountStatusInvalid, UnfreezeAlreadyRequested
from rongshu.ledger.events import TransfersPosted, iter_transfers
from rongshu.ledger.models import INT64_MAX, Account, Transfer
from tests.ledger.conftest import fresh, make_account, make_bank_account, tr

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
        assert len(sql) == 1 and "ledger_post_single" in sql[0], sql  # one statement
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


# ------------------------------------------------------------------ one-statement single transfer
_EDGE = st.sampled_from([0, 0, 1, 49, 50, 51, 99, 100, 101, 150, 200, INT64_MAX - 100, INT64_MAX])
_STATUS = st.sampled_from([Account.OPEN] * 7 + [Account.DEBIT_FROZEN, Account.FROZEN,
                           Account.CLOSED])  # fmt: skip
_FLAGS = st.sampled_from([(False, False), (True, False), (False, True)])


def _account_state() -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {
            "debits_pending": _EDGE, "debits_posted": _EDGE, "credits_pending": _EDGE,
            "credits_posted": _EDGE, "overdraft_limit": st.sampled_from([0, 1, 50]),
            "status": _STATUS, "currency": st.sampled_from(["CNY"] * 7 + ["USD"]),
            "flags": _FLAGS,
        }
    )  # fmt: skip


def _evaluator_answer(item: services.TransferIn) -> str:
    """What the general evaluator answers for ``item`` now (read under the locks, nothing
    written)."""
    with transaction.atomic():
        batch = services._Batch([item], {})
        batch.load(check_existing=True)
        answer = batch.apply()[0].result
        transaction.set_rollback(True)
    return answer


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(dr=_account_state(), cr=_account_state(),
       amount=st.sampled_from([1, 50, 51, 100, 101, 150, INT64_MAX - 1]),
       replay=st.sampled_from([None] * 6 + ["same", "amount", "metadata"]))  # fmt: skip
def test_the_single_path_answers_exactly_as_the_evaluator(
    bank: Account,
    dr: dict,
    cr: dict,
    amount: int,
    replay: str | None,  # type: ignore[type-arg]
) -> None:
    """Whatever the accounts' totals, flags, statuses and currencies, and whether the id is
    stored, a single transfer (on PostgreSQL through ``ledger_post_single``) answers what the
    evaluator answers, and writes exactly when it answers ``created``."""
    a, b = make_account(), make_account()
    stored = None
    if replay is not None:
        stored = tr(bank, b, 5, metadata={"k": 1})
        assert results([stored]) == ["created"]
    for account, state in ((a, dr), (b, cr)):
        state = dict(state)
        dmnec, cmned = state.pop("flags")
        if not dmnec:
            state["overdraft_limit"] = 0
        Account.objects.filter(pk=account.pk).update(
            debits_must_not_exceed_credits=dmnec, credits_must_not_exceed_debits=cmned, **state
        )
    if replay is None or stored is None:
        item = tr(a, b, amount)
    else:
        item = tr(bank, b, 5 if replay != "amount" else 6, transfer_id=stored.transfer_id,
                  metadata={"k": 1} if replay != "metadata" else {"k": 2})  # fmt: skip
    expected = _evaluator_answer(item)
    event(expected)
    before = [(fresh(x).debits_posted, fresh(x).credits_posted) for x in (a, b)]
    count = Transfer.objects.count()
    assert results([item]) == [expected]
    after = [(fresh(x).debits_posted, fresh(x).credits_posted) for x in (a, b)]
    if expected == "created":
        assert after == [
            (before[0][0] + amount, before[0][1]),
            (before[1][0], before[1][1] + amount),
        ]
        assert Transfer.objects.count() == count + 1
        stored_row = Transfer.objects.get(transfer_id=item.transfer_id)
        assert stored_row.debit_account_net_after == after[0][1] - after[0][0]
        assert stored_row.credit_account_net_after == after[1][1] - after[1][0]
    else:
        assert after == before and Transfer.objects.count() == count


def test_the_single_path_event_is_the_event_of_the_batch_path(bank: Account) -> None:
    a = make_account()
    # codes equal to other strings share their index; an account's text is not shared
    for code in ("test", "CNY", "single", str(a.public_id), str(bank.public_id)):
        out = services.do_create_transfer(tr(bank, a, 3, code=code, metadata={"x": [1, "二"]}))
        event = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").latest("id")
        assert event.payload == TransfersPosted.of([out]).payload()
        assert (event.state, event.attempts, event.dedupe_key) == (OutboxEvent.PENDING, 0, None)
        assert event.delivered_handlers == [] and event.event_id.version == 7
        stored = Transfer.objects.get(transfer_id=out.transfer_id)
        assert stored.metadata == {"x": [1, "二"]} and stored.created_at == out.created_at
    assert services.do_create_transfer(tr(bank, a, 1, linked=False)).kind == "single"
    assert results([tr(bank, a, 1, linked=True)]) == ["linked_event_chain_open"]


def test_the_single_statement_is_prepared_on_the_server(bank: Account) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    a = make_account()
    for amount in (1, 2):
        assert results([tr(bank, a, amount)]) == ["created"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%ledger_post_single%"],
        )
        assert cursor.fetchone()[0] == 1
    assert fresh(a).credits_posted == 3


@pytest.mark.django_db(transaction=True)
def test_single_transfers_outside_a_transaction() -> None:
    """Autocommit: the one statement is its own transaction; the general path answers the
    rest; the event is dispatched after commit."""
    bank_account = make_bank_account()
    a = make_account()
    assert not connection.in_atomic_block
    item = tr(bank_account, a, 10)
    assert results([item]) == ["created"]
    assert results([item]) == ["exists"]
    assert results([tr(bank_account, a, 11, transfer_id=item.transfer_id)]) == [
        "exists_with_different_amount"
    ]
    assert results([tr(a, bank_account, 11)]) == ["exceeds_credits"]
    assert fresh(a).credits_posted == 10 and fresh(a).debits_posted == 0
    events = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted")
    assert events.count() == 1
    assert events.get().state == OutboxEvent.DELIVERED  # dispatched after its commit


def test_a_large_batch_stores_its_event_with_lz4_and_puts_the_setting_back(bank: Account) -> None:
    if connection.vendor != "postgresql" or not services._lz4_available():
        pytest.skip("PostgreSQL with lz4 only")
    accounts = [make_account() for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL default_toast_compression = 'pglz'")
        items = [tr(bank, accounts[i % 3], 1 + i) for i in range(600)]
        assert set(results(items)) == {"created"}
        cursor.execute(
            "SELECT pg_column_compression(payload) FROM kernel_outboxevent ORDER BY id DESC LIMIT 1"
        )
        assert cursor.fetchone()[0] == "lz4"
        cursor.execute("SHOW default_toast_compression")
        assert cursor.fetchone()[0] == "pglz"  # the caller's setting, back
        assert results(items[:2]) == ["exists", "exists"]  # a small call changes nothing
        cursor.execute("SHOW default_toast_compression")
        assert cursor.fetchone()[0] == "pglz"
    assert sum(fresh(a).credits_posted for a in accounts) == sum(range(1, 601))


# ---------------------------------------------------------------------- batch fast paths
_TOTALS = st.sampled_from([0, 0, 1, 50, 100, 1_000, INT64_MAX - 10, INT64_MAX])
# one field of an otherwise plain single transfer, set to something unusual
_ODD = st.sampled_from(
    [
        ("amount", None), ("amount", 0), ("amount", -1), ("amount", INT64_MAX),
        ("amount", INT64_MAX + 1), ("amount", True), ("currency", "USD"), ("currency", "XXY"),
        ("currency", 5), ("code", ""), ("code", "x" * 41), ("code", "x" * 40),
        ("reference", "r" * 141), ("reference", "r" * 140), ("kind", "pending"),
        ("kind", "bogus"), ("pending_id", uuid.UUID(int=10_000)), ("timeout", 5),
        ("timeout", -1), ("linked", True), ("debit_account", None),
        ("credit_account", None), ("debit_account", uuid.UUID(int=999)),
        ("credit_account", uuid.UUID(int=999)), ("debit_account", uuid.UUID(int=1)),
    ]
)  # fmt: skip


@st.composite
def _batch_case(draw: st.DrawFn) -> tuple[list[tuple[object, ...]], list[services.TransferIn]]:
    """Accounts in memory (rows as the lock statement returns them) and a batch of items,
    mostly plain single transfers (in-batch duplicates among them), with every way of not
    being one mixed in."""
    n_acc = draw(st.integers(2, 5))
    pubs = [uuid.UUID(int=k + 1) for k in range(n_acc)]
    rows = []
    for k, pub in enumerate(pubs):
        dmnec, cmned = draw(_FLAGS)
        status = draw(st.sampled_from([Account.OPEN] * 5 + [Account.FROZEN,
                                       Account.DEBIT_FROZEN, Account.CLOSED]))  # fmt: skip
        rows.append(
            (k + 1, pub, draw(st.sampled_from(["CNY"] * 6 + ["USD"])), status, dmnec, cmned,
             draw(st.sampled_from([0, 30])) if dmnec else 0, draw(_TOTALS), draw(_TOTALS),
             draw(_TOTALS), draw(_TOTALS))
        )  # fmt: skip
    ids = [uuid.UUID(int=10_000 + k) for k in range(30)]  # repeats: in-batch duplicates
    items = []
    for _ in range(draw(st.integers(1, 30))):
        debit, credit = draw(st.permutations(pubs))[:2]
        fields: dict[str, object] = {
            "transfer_id": draw(st.sampled_from(ids)),
            "debit_account": debit,
            "credit_account": credit,
            "amount": draw(st.sampled_from([1, 7, 50, 99, 100, 1_000, INT64_MAX - 5])),
            "currency": "CNY",
            "code": "c",
        }
        if draw(st.integers(0, 3)) == 0:
            name, value = draw(_ODD)
            fields[name] = value
        items.append(services.TransferIn(**fields))  # type: ignore[arg-type]
    return rows, items


T0 = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


def _evaluate(
    rows: list[tuple[object, ...]], items: list[services.TransferIn], *, fast: bool
) -> tuple[object, ...]:
    batch = services._Batch(items, {})
    batch.now = T0
    for row in rows:
        acc = services._Acc(row)
        batch.by_pub[acc.pub.int] = acc
        batch.by_pk[acc.pk] = acc
    if not fast:
        batch._fresh_single = lambda it: None  # type: ignore[method-assign]
    results = batch.apply()
    return (
        [(r.result, r.transfer and vars(r.transfer)) for r in results],
        [(a.dp, a.dpo, a.cp, a.cpo, a.dirty) for a in batch.by_pk.values()],
        batch.rows,
        [vars(t) for t in batch.created],
        {tid: [getattr(h, k) for k in h.__slots__] for tid, h in batch.holds.items()},
    )


@settings(max_examples=400, deadline=None)
@given(case=_batch_case())
def test_the_batch_fast_path_answers_exactly_as_the_general_evaluator(
    case: tuple[list[tuple[object, ...]], list[services.TransferIn]],
) -> None:
    """``_Batch._fresh_single`` (the unlinked single transfer in one call) gives, for any
    accounts and items, the same result codes, transfers, balances and rows as the general
    ``apply_one`` alone — also around boundaries, refusals, duplicates and chains."""
    rows, items = case
    fast = _evaluate(rows, items, fast=True)
    event(str(sorted({code for code, _ in fast[0]})))  # type: ignore[index]
    assert fast == _evaluate(rows, items, fast=False)


def _ledger_state(accounts: list[Account]) -> tuple[object, ...]:
    return (
        [
            (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
            for a in Account.objects.filter(pk__in=[x.pk for x in accounts]).order_by("pk")
        ],
        list(
            Transfer.objects.order_by("id").values_list(
                "transfer_id", "amount", "debit_account_net_after", "credit_account_net_after"
            )
        ),
    )


def test_a_streamed_batch_answers_and_writes_as_an_unstreamed_one(
    bank: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL streams a large batch's new transfers into a COPY while it is evaluated (a
    few at a time here, so chains cross the flushes): same answers and same rows as with
    the whole write after the evaluation, also when a chain fails after earlier transfers
    were sent, an item is refused, and a stored id turns up after the unchecked pass."""
    accounts = [make_account() for _ in range(4)]
    stored = tr(bank, accounts[0], 5)
    assert results([stored]) == ["created"]
    items = []
    for k in range(120):
        a = accounts[k % 4]
        if k % 17 == 5:  # a chain of three whose last item overdraws: all fail
            items += [tr(bank, a, 3, linked=True), tr(bank, a, 4, linked=True), tr(a, bank, 10**9)]
        elif k % 23 == 7:  # a chain of two that goes through
            items += [tr(bank, a, 6, linked=True), tr(a, bank, 1)]
        else:
            items.append(tr(bank, a, 1 + k))
    items.insert(70, stored)  # a replay: exists (found after the unchecked pass)
    items.insert(90, tr(accounts[1], accounts[2], 10**12))  # refused: exceeds_credits
    monkeypatch.setattr(services, "_STREAM_ROWS", 8)
    outcomes = []
    for stream_from in (10**9, 64):  # not streamed, then streamed
        monkeypatch.setattr(services, "_STREAM_FROM", stream_from)
        with transaction.atomic():
            answers = results(items)
            outcomes.append((answers, _ledger_state([bank, *accounts])))
            transaction.set_rollback(True)
    assert outcomes[0] == outcomes[1]
    answers = outcomes[0][0]
    assert answers[70] == "exists" and answers[90] == "exceeds_credits"
    assert "linked_event_failed" in answers and answers.count("created") > 100


def test_a_stored_id_in_a_streamed_batch_is_answered_exists(bank: Account) -> None:
    """An item whose id is stored, evaluated as new (no refusal: the stored ids are not
    read), meets the unique key when the COPY ends; the batch is evaluated again with them
    read and answers ``exists`` for it, ``created`` for the rest."""
    a = make_account()
    stored = tr(bank, a, 5)
    assert results([stored]) == ["created"]
    items = [tr(bank, a, 1) for _ in range(100)]
    items[60] = stored
    before = Transfer.objects.count()
    answers = results(items)
    assert answers[60] == "exists" and answers.count("created") == 99
    assert Transfer.objects.count() == before + 99
    assert fresh(a).credits_posted == 5 + 99
    event = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").latest("id")
    assert len(event.payload["ids"]) == 99
    assert str(stored.transfer_id) not in event.payload["ids"]


def test_a_large_batch_event_is_the_row_record_events_writes(bank: Account) -> None:
    """On PostgreSQL a large batch's outbox row is built while its COPY is stored (from the
    kernel's OutboxRowTemplate); it is the row ``record_events`` would write."""
    accounts = [make_account() for _ in range(3)]
    items = [tr(bank, accounts[i % 3], 1 + i, code=f"c{i % 2}") for i in range(700)]
    outs = [r.transfer for r in services.do_create_transfers(items)]
    assert all(outs)
    event = OutboxEvent.objects.filter(event_type="ledger.TransfersPosted").latest("id")
    assert event.payload == TransfersPosted.of(outs).payload()  # type: ignore[arg-type]
    assert (event.state, event.attempts, event.dedupe_key) == (OutboxEvent.PENDING, 0, None)
    assert event.delivered_handlers == [] and event.event_id.version == 7
    assert [t["amount"] for t in iter_transfers(event.payload)] == list(range(1, 701))


def test_ledger_owners_answers_owners_of_and_is_inlined(bank: Account) -> None:
    """PostgreSQL: the ledger's SQL read of owners (other domains' functions call it) gives
    the rows ``queries.owners_of`` gives, and a call in a query's FROM is inlined into it —
    planned as a read of the account table, not a function scan planned again per call."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL function")
    from rongshu.ledger import queries

    a, b = make_account(), make_account()
    ids = [a.public_id, b.public_id, bank.public_id, uuid.uuid4()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ledger_owners(%s::uuid[])", [ids])
        rows = {row[0]: tuple(row) for row in cursor.fetchall()}
        cursor.execute("EXPLAIN SELECT * FROM ledger_owners(%s::uuid[])", [ids])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert rows == {
        key: (o.public_id, o.owner_type, o.owner_id, o.currency, o.name)
        for key, o in queries.owners_of(ids).items()
    }
    assert len(rows) == 3
    assert "Function Scan" not in plan and "ledger_account" in plan, plan
