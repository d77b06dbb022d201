from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

from rongshu.kernel import clock, outbox
from rongshu.kernel.errors import NotFound
from rongshu.kernel.models import OutboxEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_handlers")]


@dataclasses.dataclass(frozen=True)
class ThingHappened(outbox.DomainEvent):
    event_type = "test.ThingHappened"
    thing_id: str
    amount: int


def test_event_is_dispatched_after_commit_only() -> None:
    seen: list[dict[str, object]] = []
    outbox.handles("test.ThingHappened", name="collector")(lambda e: seen.append(e.payload))
    with transaction.atomic():
        outbox.record_event(ThingHappened("t1", 5))
        assert seen == []  # nothing leaves before commit
    assert seen == [{"thing_id": "t1", "amount": 5}]
    assert OutboxEvent.objects.get().state == OutboxEvent.DELIVERED


def test_rolled_back_event_is_never_delivered() -> None:
    seen: list[object] = []
    outbox.handles("test.ThingHappened", name="collector")(seen.append)

    def record_then_fail() -> None:
        with transaction.atomic():
            outbox.record_event(ThingHappened("t1", 5))
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert seen == [] and not OutboxEvent.objects.exists()


def test_dedupe_key_records_once() -> None:
    first = outbox.record_event(ThingHappened("t1", 5), dedupe_key="thing:t1")
    second = outbox.record_event(ThingHappened("t1", 5), dedupe_key="thing:t1")
    assert first.pk == second.pk and OutboxEvent.objects.count() == 1


def test_failing_handler_is_retried_with_backoff_then_dead_lettered() -> None:
    calls = {"good": 0, "bad": 0}

    def good(event: OutboxEvent) -> None:
        calls["good"] += 1

    def bad(event: OutboxEvent) -> None:
        calls["bad"] += 1
        raise ValueError("partner down")

    outbox.handles("test.ThingHappened", name="good")(good)
    outbox.handles("test.ThingHappened", name="bad")(bad)
    with override_settings(OUTBOX_MAX_ATTEMPTS=3):
        outbox.record_event(ThingHappened("t1", 5))  # dispatch 1 on commit
        event = OutboxEvent.objects.get()
        assert event.state == OutboxEvent.PENDING and event.attempts == 1
        assert "partner down" in event.last_error
        assert outbox.dispatch_pending() == (0, 0)  # not due yet (backoff)
        for hours in (2, 4):
            with clock.frozen_time(clock.now() + dt.timedelta(hours=hours)):
                outbox.dispatch_pending()
    event.refresh_from_db()
    assert event.state == OutboxEvent.DEAD and event.attempts == 3
    assert calls == {"good": 1, "bad": 3}  # a handler that succeeded is not called again
    assert [e.pk for e in outbox.list_dead_letters()] == [event.pk]

    outbox.unregister("test.ThingHappened", "bad")
    outbox.do_retry_dead_letter(str(event.event_id))
    assert outbox.dispatch_pending() == (1, 0)
    event.refresh_from_db()
    assert event.state == OutboxEvent.DELIVERED
    with pytest.raises(NotFound):
        outbox.do_retry_dead_letter(str(event.event_id))


def test_backoff_is_capped() -> None:
    assert outbox.backoff(1) == dt.timedelta(seconds=2)
    assert outbox.backoff(30) == dt.timedelta(hours=1)


def test_event_without_type_is_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class Nameless(outbox.DomainEvent):
        x: int

    with pytest.raises(ValueError):
        outbox.record_event(Nameless(1))


def test_commands(capsys: pytest.CaptureFixture[str]) -> None:
    outbox.handles("test.ThingHappened", name="bad")(lambda e: 1 / 0)
    with override_settings(OUTBOX_MAX_ATTEMPTS=1, OUTBOX_DISPATCH_ON_COMMIT=False):
        event = outbox.record_event(ThingHappened("t1", 5))
        call_command("outbox", "dispatch")
        call_command("outbox", "list", "--dead")
        out = capsys.readouterr().out
        assert "delivered 0, failed 1" in out and str(event.event_id) in out
        call_command("outbox", "retry", str(event.event_id))
        assert "re-queued" in capsys.readouterr().out
        with pytest.raises(CommandError):
            call_command("outbox", "retry")
        with pytest.raises(CommandError):
            call_command("outbox", "retry", str(event.event_id))  # pending, not dead


def test_record_events_inserts_several_in_one_statement_and_dispatches_after_commit() -> None:
    from django.db import IntegrityError, connection
    from django.test.utils import CaptureQueriesContext

    seen: list[dict[str, object]] = []
    outbox.handles("test.ThingHappened", name="collector")(lambda e: seen.append(e.payload))
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            rows = outbox.record_events(
                [(ThingHappened("t1", 5), "thing:t1"), (ThingHappened("t2", 6), None)]
            )
        assert len(captured) == 1  # one INSERT: no read, no savepoint
        assert [r.pk is not None for r in rows] == [True, True]
        assert seen == []  # nothing leaves before commit
    assert sorted(seen, key=str) == [
        {"thing_id": "t1", "amount": 5},
        {"thing_id": "t2", "amount": 6},
    ]
    assert set(OutboxEvent.objects.values_list("state", flat=True)) == {OutboxEvent.DELIVERED}
    assert outbox.record_events([]) == []

    # a key already there is refused (the caller's transaction rolls back), never recorded twice
    with pytest.raises(IntegrityError), transaction.atomic():
        outbox.record_events([(ThingHappened("t3", 7), None), (ThingHappened("t1", 5), "thing:t1")])
    assert OutboxEvent.objects.count() == 2

    @dataclasses.dataclass(frozen=True)
    class Nameless(outbox.DomainEvent):
        x: int

    with pytest.raises(ValueError):
        outbox.record_events([(Nameless(1), None)])
