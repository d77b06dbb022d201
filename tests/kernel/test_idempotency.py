from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rongshu.kernel import clock, idempotency
from rongshu.kernel.audit import do_audit
from rongshu.kernel.idempotency import (
    IdempotencyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    StoredResponse,
    fingerprint,
    run_idempotent,
)
from rongshu.kernel.models import AuditEntry, IdempotencyRecord

pytestmark = pytest.mark.django_db


def _work(status: int = 201, body: bytes = b'{"ok":true}'):  # type: ignore[no-untyped-def]
    """A command with a visible side effect (an audit entry) and a chosen answer."""

    def execute() -> StoredResponse:
        entry = do_audit("test", "work.done")
        return StoredResponse(status, body + str(entry.seq).encode(), "application/json")

    return execute


def test_first_run_executes_and_replay_returns_the_same_answer() -> None:
    fp = fingerprint("POST", "/x", b"{}")
    first = run_idempotent("u1", "k1", fp, _work())
    second = run_idempotent("u1", "k1", fp, _work())
    assert first.status == 201 and not first.replayed
    assert second.replayed and second.body == first.body and second.status == 201
    assert AuditEntry.objects.count() == 1


def test_same_key_other_body_is_refused() -> None:
    run_idempotent("u1", "k1", fingerprint("POST", "/x", b"{}"), _work())
    with pytest.raises(IdempotencyKeyReused) as info:
        run_idempotent("u1", "k1", fingerprint("POST", "/x", b'{"a":1}'), _work())
    assert info.value.status == 422


def test_keys_are_scoped_per_principal() -> None:
    fp = fingerprint("POST", "/x", b"{}")
    run_idempotent("u1", "k1", fp, _work())
    assert not run_idempotent("u2", "k1", fp, _work()).replayed
    assert AuditEntry.objects.count() == 2


def test_in_flight_gives_409_until_the_lease_runs_out() -> None:
    fp = fingerprint("POST", "/x", b"{}")
    now = clock.now()
    IdempotencyRecord.objects.create(
        scope="u1",
        key="k1",
        fingerprint=fp,
        lease_until=now + dt.timedelta(seconds=30),
        created_at=now,
    )
    with pytest.raises(IdempotencyInFlight) as info:
        run_idempotent("u1", "k1", fp, _work())
    assert info.value.status == 409 and info.value.retry_after >= 1
    with clock.frozen_time(now + dt.timedelta(seconds=61)):
        result = run_idempotent("u1", "k1", fp, _work())  # the holder died: take over
    assert result.status == 201 and not result.replayed


def test_error_answers_roll_back_and_release_or_store() -> None:
    fp = fingerprint("POST", "/x", b"{}")
    # A 422 (the command ran and was refused) is stored and replayed; its writes rolled back.
    refused = run_idempotent("u1", "k422", fp, _work(status=422))
    assert AuditEntry.objects.count() == 0
    assert run_idempotent("u1", "k422", fp, _work()).replayed
    assert refused.status == 422
    # A 400 releases the key: the retry runs.
    run_idempotent("u1", "k400", fp, _work(status=400))
    assert not IdempotencyRecord.objects.filter(key="k400").exists()
    assert run_idempotent("u1", "k400", fp, _work()).status == 201
    # A 3xx answer is not stored either.
    run_idempotent("u1", "k302", fp, _work(status=302))
    assert not IdempotencyRecord.objects.filter(key="k302").exists()


def test_exception_releases_the_key_and_writes_nothing() -> None:
    def crash() -> StoredResponse:
        do_audit("test", "half.done")
        raise RuntimeError("boom")

    fp = fingerprint("POST", "/x", b"{}")
    with pytest.raises(RuntimeError):
        run_idempotent("u1", "k1", fp, crash)
    assert AuditEntry.objects.count() == 0
    assert not IdempotencyRecord.objects.exists()


def test_an_answer_whose_record_vanished_is_not_committed() -> None:
    """As the ORM's save(update_fields) does, storing the answer of a record that is gone
    (purged or released meanwhile) raises, and the command's work rolls back with it."""
    fp = fingerprint("POST", "/x", b"{}")
    before = AuditEntry.objects.count()

    def execute() -> StoredResponse:
        IdempotencyRecord.objects.filter(scope="u1", key="gone").delete()
        return _work()()

    with pytest.raises(DatabaseError):
        run_idempotent("u1", "gone", fp, execute)
    assert AuditEntry.objects.count() == before
    assert not IdempotencyRecord.objects.filter(scope="u1", key="gone").exists()


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 256, "ключ"])
def test_key_format(key: str | None) -> None:
    expected = IdempotencyKeyRequired if key is None else IdempotencyKeyInvalid
    with pytest.raises(expected):
        run_idempotent("u1", key, "fp", _work())


def test_fingerprint_separates_fields() -> None:
    assert fingerprint("POST", "/ab", b"c") != fingerprint("POST", "/a", b"bc")
    assert fingerprint("post", "/a", b"") == fingerprint("POST", "/a", b"")


def test_purge_keeps_24_hours() -> None:
    now = clock.now()
    for age_h in (1, 23, 25, 48):
        IdempotencyRecord.objects.create(
            scope="u",
            key=f"k{age_h}",
            fingerprint="f",
            lease_until=now,
            created_at=now - dt.timedelta(hours=age_h),
        )
    assert idempotency.purge_idempotency_records() == 2
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k1", "k23"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from([b"1", b"2"])),
        min_size=1,
        max_size=25,
    )
)
def test_property_each_key_executes_once(requests: list[tuple[str, bytes]]) -> None:
    """Any sequence of (key, body): one execution per key; the same key with another body is
    refused; every replay returns the first answer."""
    IdempotencyRecord.objects.all().delete()
    executions: dict[str, int] = {}
    first_body: dict[str, bytes] = {}
    first_answer: dict[str, bytes] = {}
    for key, body in requests:

        def execute(key: str = key, body: bytes = body) -> StoredResponse:
            executions[key] = executions.get(key, 0) + 1
            return StoredResponse(201, body + b"#" + str(executions[key]).encode(), "text/plain")

        fp = fingerprint("POST", "/p", body)
        if key in first_body and first_body[key] != body:
            with pytest.raises(IdempotencyKeyReused):
                run_idempotent("p", key, fp, execute)
            continue
        answer = run_idempotent("p", key, fp, execute)
        if key in first_body:
            assert answer.replayed and answer.body == first_answer[key]
        else:
            first_body[key], first_answer[key] = body, answer.body
    assert all(count == 1 for count in executions.values())
    assert set(executions) == set(first_body)


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once() -> None:
    """Eight threads send the same key at once: the claim is one statement committed on its
    own, so exactly one runs the command; each other one is told it is in flight or gets the
    stored answer — never a second run."""
    import threading

    from django.db import connection

    fp = fingerprint("POST", "/x", b"{}")
    start = threading.Barrier(8)
    answers: list[str] = []

    def client() -> None:
        try:
            start.wait()
            try:
                answer = run_idempotent("u1", "same", fp, _work())
                answers.append("replayed" if answer.replayed else "ran")
            except IdempotencyInFlight:
                answers.append("in_flight")
        finally:
            connection.close()  # this thread's own: connections persist (CONN_MAX_AGE)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8
    assert answers.count("ran") == 1, answers
    assert AuditEntry.objects.count() == 1
    assert IdempotencyRecord.objects.get(scope="u1", key="same").state == IdempotencyRecord.DONE
