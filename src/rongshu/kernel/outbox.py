"""Transactional outbox and after-commit dispatch (Fineract's external events, Saleor's
``call_event``).

A domain service calls :func:`record_event` inside its transaction: the event row commits or
rolls back with the business change, so no handler ever sees an event for work that did not
happen. After commit the dispatcher delivers pending events to the in-process handlers
registered with :func:`handles`. Delivery is at least once: a handler that fails is retried with
exponential backoff (and the handlers that already succeeded are not called again); after
``OUTBOX_MAX_ATTEMPTS`` the event becomes a dead letter, listed by ``rongshu outbox list --dead``
and re-queued by ``rongshu outbox retry``. Handlers must be idempotent.

A handler registered ``external=True`` talks to a party outside the bank (a partner's webhook,
a gateway) and may take seconds. In a process that runs the *courier* (:func:`start_courier`:
``rongshu serve`` starts one per web worker) the after-commit dispatch in the request thread
delivers only the in-process handlers and hands the event to the courier, a daemon thread that
delivers the external handlers and, every ``OUTBOX_COURIER_INTERVAL_S`` seconds, every event
whose retry has come due. Without a courier (tests, management commands, a separate
``rongshu outbox dispatch --loop`` worker) everything is delivered where it is dispatched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import JSONField

from rongshu.kernel import clock, fastsql
from rongshu.kernel.models import OutboxEvent

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    """Base of past-tense domain events (``TransferPosted``); fields must be JSON-able."""

    event_type: ClassVar[str] = ""

    def payload(self) -> dict[str, Any]:
        values = getattr(self, "__dict__", None)
        if values is not None and all(type(v) in _FLAT for v in values.values()):
            return dict(values)  # what asdict gives for scalar fields, without its deep copy
        return dataclasses.asdict(self)


_FLAT = frozenset({str, int, float, bool, type(None)})


Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[tuple[str, Handler]]] = {}
_external: set[tuple[str, str]] = set()  # (event type, handler name) that leave the bank
H = TypeVar("H", bound=Handler)


def handles(
    event_type: str, name: str | None = None, *, external: bool = False
) -> Callable[[H], H]:
    """Register an idempotent handler for an event type (by its stable ``name``);
    ``external`` when it calls a party outside the bank (delivered by the courier if one runs).
    """

    def register(func: H) -> H:
        handler_name = name or f"{func.__module__}.{func.__qualname__}"
        entries = _handlers.setdefault(event_type, [])
        entries[:] = [(n, h) for n, h in entries if n != handler_name]
        entries.append((handler_name, func))
        if external:
            _external.add((event_type, handler_name))
        else:
            _external.discard((event_type, handler_name))
        return func

    return register


def unregister(event_type: str, name: str) -> None:
    _handlers[event_type] = [(n, h) for n, h in _handlers.get(event_type, []) if n != name]
    _external.discard((event_type, name))


def handlers_for(event_type: str) -> list[tuple[str, Handler]]:
    return list(_handlers.get(event_type, []))


def record_event(event: DomainEvent, *, dedupe_key: str | None = None) -> OutboxEvent:
    """Store ``event`` in the current transaction; dispatch happens after commit.

    With ``dedupe_key`` an event is recorded at most once (a retried command returns the row
    already there).
    """
    if not event.event_type:
        raise ValueError(f"{type(event).__name__} has no event_type")
    now = clock.now()
    if dedupe_key is not None:
        existing = OutboxEvent.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            row = OutboxEvent.objects.create(
                event_type=event.event_type,
                payload=event.payload(),
                dedupe_key=dedupe_key,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        return OutboxEvent.objects.get(dedupe_key=dedupe_key)
    dispatch_after_commit([row.pk])
    return row


def record_events(items: Sequence[tuple[DomainEvent, str | None]]) -> list[OutboxEvent]:
    """Store several ``(event, dedupe_key)`` of one command with a single INSERT in the current
    transaction; dispatch happens after commit.

    For events that are new by construction (keyed by a row this transaction has just
    inserted under its own unique constraint): there is no read first and no savepoint, so a
    ``dedupe_key`` already present raises ``IntegrityError`` and the caller's transaction
    rolls back. A command that may be retried records with :func:`record_event` instead.
    """
    for event, _key in items:
        if not event.event_type:
            raise ValueError(f"{type(event).__name__} has no event_type")
    if not items:
        return []
    now = clock.now()
    rows = [
        OutboxEvent(
            event_type=event.event_type,
            payload=event.payload(),
            dedupe_key=key,
            next_attempt_at=now,
            created_at=now,
        )
        for event, key in items
    ]
    fastsql.insert(rows)  # on every command's path: no ORM query compilation
    dispatch_after_commit([row.pk for row in rows])
    return rows


def dispatch_after_commit(event_ids: Sequence[int], *, using: str | None = None) -> None:
    """Deliver these stored events once the current transaction commits (nothing when it
    rolls back), if ``OUTBOX_DISPATCH_ON_COMMIT``; for a command that writes its outbox rows
    inside a statement of its own."""
    if settings.OUTBOX_DISPATCH_ON_COMMIT and event_ids:
        ids = list(event_ids)
        transaction.on_commit(lambda: dispatch_pending(event_ids=ids), using=using)


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try: 2, 4, 8 … seconds, at most an hour."""
    return dt.timedelta(seconds=min(2**attempts, 3600))


def _deliver(event: OutboxEvent, *, local_only: bool = False) -> bool | None:
    """Call the handlers not yet delivered; ``True`` when all succeeded, ``False`` when one
    failed. ``local_only`` skips the external ones: if all others succeeded the event stays
    pending for the courier without spending an attempt, and the answer is ``None``."""
    delivered = set(event.delivered_handlers)
    failures: list[str] = []
    left_for_courier = False
    for name, handler in handlers_for(event.event_type):
        if name in delivered:
            continue
        if local_only and (event.event_type, name) in _external:
            left_for_courier = True
            continue
        try:
            with transaction.atomic():
                handler(event)
        except Exception as exc:
            logger.exception("outbox handler %s failed for event %s", name, event.event_id)
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            delivered.add(name)
    now = clock.now()
    event.delivered_handlers = sorted(delivered)
    if left_for_courier and not failures:
        event.save(update_fields=["delivered_handlers"])
        return None
    event.attempts += 1
    if failures:
        event.last_error = "\n".join(failures)[:4000]
        if event.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            event.state = OutboxEvent.DEAD
            logger.error("outbox event %s is a dead letter", event.event_id)
        else:
            event.next_attempt_at = now + backoff(event.attempts)
    else:
        event.state = OutboxEvent.DELIVERED
        event.delivered_at = now
        event.last_error = ""
    event.save()
    return not failures


def dispatch_pending(*, limit: int = 500, event_ids: list[int] | None = None) -> tuple[int, int]:
    """Deliver due pending events; returns (delivered, failed). Called after commit with the
    command's ``event_ids``; when this process runs a courier and this is not its thread, the
    external handlers are left to the courier."""
    local_only = _courier is not None and threading.current_thread() is not _courier.thread
    queryset = OutboxEvent.objects.filter(
        state=OutboxEvent.PENDING, next_attempt_at__lte=clock.now()
    ).order_by("id")
    if event_ids is not None:
        queryset = queryset.filter(pk__in=event_ids)
    ok = failed = 0
    handed_over: list[int] = []
    for event_pk in list(queryset.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            event = (
                OutboxEvent.objects.select_for_update(skip_locked=_skip_locked())
                .filter(pk=event_pk, state=OutboxEvent.PENDING)
                .first()
            )
            if event is None:  # another dispatcher took it
                continue
            outcome = _deliver(event, local_only=local_only)
            if outcome is None:
                handed_over.append(event.pk)
            elif outcome:
                ok += 1
            else:
                failed += 1
    if handed_over and _courier is not None:
        _courier.hand_over(handed_over)
    return ok, failed


def _skip_locked() -> bool:
    return bool(connections["default"].features.has_select_for_update_skip_locked)


# ------------------------------------------------------------------ the courier thread
class _Courier:
    """A daemon thread delivering handed-over events and, every ``interval`` seconds, the
    events whose retry is due. It uses its own database connection."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.inbox: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rongshu-outbox-courier", daemon=True)

    def hand_over(self, event_ids: list[int]) -> None:
        self.inbox.put(list(event_ids))

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                ids = self.inbox.get(timeout=self.interval)
            except queue.Empty:
                ids = None
            if self.stopping.is_set():
                break
            try:
                close_old_connections()
                if ids:
                    dispatch_pending(event_ids=ids)
                dispatch_pending(limit=100)  # retries that came due
            except Exception:
                logger.exception("outbox courier round failed")
        connections.close_all()


_courier: _Courier | None = None


def start_courier(interval: float | None = None) -> None:
    """Start this process's courier (idempotent)."""
    global _courier
    if _courier is not None:
        return
    courier = _Courier(
        interval if interval is not None else float(settings.OUTBOX_COURIER_INTERVAL_S)
    )
    _courier = courier
    courier.thread.start()
    logger.info("outbox courier started (every %.1f s)", courier.interval)


def stop_courier(timeout: float = 10.0) -> None:
    """Stop the courier and wait for its current round to end."""
    global _courier
    courier, _courier = _courier, None
    if courier is None:
        return
    courier.stopping.set()
    courier.inbox.put(None)
    courier.thread.join(timeout)


def list_dead_letters() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(state=OutboxEvent.DEAD).order_by("id"))


def do_retry_dead_letter(event_id: str) -> OutboxEvent:
    """Put a dead letter back in the queue with a fresh attempt budget."""
    from rongshu.kernel.errors import NotFound

    event = OutboxEvent.objects.filter(event_id=event_id, state=OutboxEvent.DEAD).first()
    if event is None:
        raise NotFound(f"No dead-letter event {event_id}.")
    event.state = OutboxEvent.PENDING
    event.attempts = 0
    event.next_attempt_at = clock.now()
    event.save()
    return event


# ------------------------------------------------------------------ an event inside a statement
_Maker = Callable[[Any, dt.datetime], Any]  # (payload, now) → one column's parameter


def json_text(field: Any) -> Callable[[Any], str]:
    """A JSON field's value as text (for a ``%s::jsonb`` parameter), encoded as the field
    encodes it."""
    encoder = field.encoder
    return lambda value: json.dumps(value, cls=encoder)


class OutboxRowTemplate:
    """One outbox row of ``event_type`` as SQL a command can put inside its own statement
    (PostgreSQL; e.g. ``INSERT INTO {table} ({columns}) SELECT {values} FROM …``) and its
    parameters per call — the row :func:`record_events` writes (this model's columns and
    defaults, no dedupe key), without a model instance or per-field preparation. The caller
    calls :func:`dispatch_after_commit` with the row's id."""

    def __init__(self, event_type: str, db: Any) -> None:
        fields = [f for f in OutboxEvent._meta.concrete_fields if not f.primary_key]
        given = {"event_type", "payload", "dedupe_key", "next_attempt_at", "created_at"}
        makers: list[_Maker] = []
        casts: list[str] = []
        for f in fields:
            as_json = json_text(f) if isinstance(f, JSONField) else None
            casts.append("jsonb" if as_json else str(f.cast_db_type(db)))
            if f.name == "event_type":
                makers.append(_const(event_type))
            elif f.name == "payload":
                assert as_json is not None
                makers.append(_of_payload(as_json))
            elif f.name == "dedupe_key":
                makers.append(_const(None))
            elif f.name in given:  # next_attempt_at, created_at
                makers.append(_now)
            elif f.has_default() and callable(f.default):  # event_id (a new id), lists
                if as_json and f.default in (list, dict):  # an empty container, as text
                    makers.append(_const(as_json(f.get_default())))
                else:
                    makers.append(_fresh(f.get_default, as_json))
            else:
                value = f.get_default()
                makers.append(_const(as_json(value) if as_json else f.get_db_prep_save(value, db)))
        self.makers = makers
        names = [f.name for f in fields]
        self._type_at, self._dedupe_at = names.index("event_type"), names.index("dedupe_key")
        self.table = db.ops.quote_name(OutboxEvent._meta.db_table)
        self.columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
        self.values = ", ".join(f"%s::{cast}" for cast in casts)

    def params(self, payload: Any, now: dt.datetime) -> list[Any]:
        return [make(payload, now) for make in self.makers]

    def event_params(
        self, event: DomainEvent, dedupe_key: str | None, now: dt.datetime
    ) -> list[Any]:
        """The row of ``event`` (its own type, whatever this template's) with ``dedupe_key``."""
        row = self.params(event.payload(), now)
        row[self._type_at] = event.event_type
        row[self._dedupe_at] = dedupe_key
        return row


def _const(value: Any) -> _Maker:
    return lambda payload, now: value


def _now(payload: Any, now: dt.datetime) -> Any:
    return now


def _of_payload(as_json: Callable[[Any], str]) -> _Maker:
    return lambda payload, now: as_json(payload)


def _fresh(default: Callable[[], Any], as_json: Callable[[Any], str] | None) -> _Maker:
    if as_json is None:
        return lambda payload, now: default()
    return lambda payload, now: as_json(default())
