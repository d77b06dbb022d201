"""The outbox courier: external handlers leave the thread that committed, and retries that
come due are delivered while the process serves (kernel.outbox)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import transaction

from rongshu.kernel import clock, outbox
from rongshu.kernel.models import OutboxEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clean_handlers")]


@dataclasses.dataclass(frozen=True)
class PartnerTold(outbox.DomainEvent):
    event_type = "test.PartnerTold"
    ref: str


@pytest.fixture
def courier() -> Iterator[None]:
    outbox.start_courier(interval=0.05)
    try:
        yield
    finally:
        outbox.stop_courier()


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Poll ``condition`` (a correctness wait for another thread, not a speed check)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def state_of(pk: int) -> str:
    return str(OutboxEvent.objects.values_list("state", flat=True).get(pk=pk))


def test_external_handler_runs_on_the_courier_not_in_the_committing_thread(courier: None) -> None:
    local: list[str] = []
    partner: list[str] = []
    entered, release = threading.Event(), threading.Event()

    def slow_partner(event: OutboxEvent) -> None:
        entered.set()
        assert release.wait(15), "the test never released the partner"
        partner.append(threading.current_thread().name)

    outbox.handles("test.PartnerTold", name="local")(
        lambda e: local.append(threading.current_thread().name)
    )
    outbox.handles("test.PartnerTold", name="partner", external=True)(slow_partner)
    with transaction.atomic():
        row = outbox.record_event(PartnerTold("r1"))
    # back in the committing thread: the in-process handler ran here, the partner call is
    # under way on the courier (and blocked) — the commit did not wait for it
    assert local == [threading.current_thread().name]
    assert entered.wait(15), "the courier never called the external handler"
    assert partner == [] and state_of(row.pk) == OutboxEvent.PENDING
    release.set()
    assert wait_for(lambda: state_of(row.pk) == OutboxEvent.DELIVERED)
    assert partner == ["rongshu-outbox-courier"] and len(local) == 1
    event = OutboxEvent.objects.get(pk=row.pk)
    assert event.attempts == 1 and sorted(event.delivered_handlers) == ["local", "partner"]


def test_without_a_courier_everything_is_delivered_where_it_is_dispatched() -> None:
    seen: list[str] = []
    outbox.handles("test.PartnerTold", name="partner", external=True)(
        lambda e: seen.append(threading.current_thread().name)
    )
    row = outbox.record_event(PartnerTold("r2"))
    assert seen == [threading.current_thread().name]
    assert state_of(row.pk) == OutboxEvent.DELIVERED


def test_the_courier_retries_a_failed_delivery_when_it_comes_due(courier: None) -> None:
    calls: list[int] = []

    def flaky_partner(event: OutboxEvent) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("partner down")

    outbox.handles("test.PartnerTold", name="partner", external=True)(flaky_partner)
    with transaction.atomic():
        row = outbox.record_event(PartnerTold("r3"))
    assert wait_for(lambda: OutboxEvent.objects.get(pk=row.pk).attempts == 1)
    event = OutboxEvent.objects.get(pk=row.pk)
    assert event.state == OutboxEvent.PENDING and "partner down" in event.last_error
    # the backoff (2 s after the first failure) has not passed: the courier waits ...
    time.sleep(0.3)
    assert len(calls) == 1
    # ... and delivers on its own once it has
    OutboxEvent.objects.filter(pk=row.pk).update(
        next_attempt_at=clock.now() - dt.timedelta(seconds=1)
    )
    assert wait_for(lambda: state_of(row.pk) == OutboxEvent.DELIVERED)
    assert len(calls) == 2 and OutboxEvent.objects.get(pk=row.pk).attempts == 2


def test_a_rolled_back_event_never_reaches_the_courier(courier: None) -> None:
    seen: list[object] = []
    outbox.handles("test.PartnerTold", name="partner", external=True)(seen.append)

    def record_then_fail() -> None:
        with transaction.atomic():
            outbox.record_event(PartnerTold("r4"))
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        record_then_fail()
    time.sleep(0.3)  # a few courier rounds
    assert seen == [] and not OutboxEvent.objects.exists()


def test_the_courier_starts_once_survives_a_failed_round_and_stops(
    courier: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    running = outbox._courier
    outbox.start_courier(interval=0.05)  # a second start changes nothing
    assert outbox._courier is running
    calls: list[int] = []
    real = outbox.dispatch_pending

    def broken_once(**kwargs: object) -> tuple[int, int]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox, "dispatch_pending", broken_once)
    assert wait_for(lambda: len(calls) >= 3)  # it went on after the failed round
    assert "outbox courier round failed" in caplog.text
    assert running is not None and running.thread.is_alive()
    outbox.stop_courier()
    assert not running.thread.is_alive() and outbox._courier is None
    outbox.stop_courier()  # stopping again changes nothing
