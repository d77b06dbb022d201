"""``Idempotency-Key`` support any command can switch on (after Zulip and Stripe).

The first request with a key claims it (one INSERT committed on its own, so a concurrent
duplicate sees the claim and gets 409 ``idempotency_in_flight``). The work and the stored
answer then commit in **one** transaction: a crash leaves no half-done work, only a claim
whose lease runs out, after which a retry may run. A later request with the same key and the
same fingerprint gets the stored answer back (``replayed``); with a different fingerprint,
422 ``idempotency_key_reused``. Answers are kept for ``IDEMPOTENCY_RETENTION_HOURS`` (24 h)
and purged by ``rongshu eod`` or ``rongshu idempotency purge``.

Which answers are stored: successes (2xx) and rule violations (422 — the command ran and was
refused). Anything else (malformed input, 5xx) releases the key so the client can retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, transaction

from rongshu.kernel import clock, fastsql
from rongshu.kernel.errors import Conflict, InvalidInput, RuleViolation
from rongshu.kernel.models import IdempotencyRecord

_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
STORED_STATUSES = frozenset({200, 201, 202, 204, 422})


class IdempotencyKeyInvalid(InvalidInput):
    code = "idempotency_key_invalid"


class IdempotencyKeyRequired(InvalidInput):
    code = "idempotency_key_required"


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry later.",
            data={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class IdempotencyKeyReused(RuleViolation):
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str | None) -> str:
    if key is None:
        raise IdempotencyKeyRequired("This operation needs an Idempotency-Key header.")
    if not _KEY_RE.match(key):
        raise IdempotencyKeyInvalid(
            "An Idempotency-Key is 1 to 255 printable ASCII characters without spaces."
        )
    return key


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)


def _stored(record: IdempotencyRecord) -> StoredResponse:
    assert record.response_status is not None
    return StoredResponse(
        status=record.response_status,
        body=bytes(record.response_body or b""),
        content_type=record.response_content_type,
        headers=dict(record.response_headers),
        replayed=True,
    )


def _claim(scope: str, key: str, fp: str) -> tuple[IdempotencyRecord, StoredResponse | None]:
    now = clock.now()
    record = IdempotencyRecord(
        scope=scope, key=key, fingerprint=fp, lease_until=now + _lease(), created_at=now
    )
    # The usual case in ONE statement (INSERT … ON CONFLICT DO NOTHING), committed on its own
    # when the caller runs in autocommit, as a request does: a concurrent duplicate waits for
    # it and then finds the claim. Before, the claim was a transaction of six statements.
    if fastsql.insert_new(record):
        return record, None
    with transaction.atomic():
        found = IdempotencyRecord.objects.select_for_update().filter(scope=scope, key=key).first()
        if found is None:  # released (its request failed) between the two statements
            raise IdempotencyInFlight(1)
        if found.fingerprint != fp:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different request."
            )
        if found.state == IdempotencyRecord.DONE:
            return found, _stored(found)
        if found.lease_until > now:
            wait = max(1, int((found.lease_until - now).total_seconds()))
            raise IdempotencyInFlight(wait)
        # The earlier holder died without finishing (its work rolled back): take over.
        found.lease_until = now + _lease()
        found.save(update_fields=["lease_until"])
        return found, None


_FINISHED = (
    "state",
    "response_status",
    "response_body",
    "response_content_type",
    "response_headers",
)


def _finish(record: IdempotencyRecord, response: StoredResponse) -> None:
    record.state = IdempotencyRecord.DONE
    record.response_status = response.status
    record.response_body = response.body
    record.response_content_type = response.content_type
    record.response_headers = response.headers
    # the ORM's save(update_fields=…), compiled once; as there, a vanished row is an error
    if fastsql.update(record, _FINISHED) != 1:
        raise DatabaseError("The idempotency record to finish is gone.")


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.IN_FLIGHT).delete()


def run_idempotent(
    scope: str, key: str | None, fp: str, execute: Callable[[], StoredResponse]
) -> StoredResponse:
    """Run ``execute`` at most once per (scope, key); replay its stored answer afterwards.

    ``execute`` runs inside a transaction that is rolled back when it answers with an error
    status (>= 400), so a refused command never leaves a partial write.
    """
    key = check_key(key)
    record, replay = _claim(scope, key, fp)
    if replay is not None:
        return replay
    try:
        with transaction.atomic():
            response = execute()
            if response.status >= 400:
                transaction.set_rollback(True)
            elif response.status in STORED_STATUSES:
                _finish(record, response)
    except BaseException:
        _release(record)
        raise
    if response.status >= 400:
        if response.status in STORED_STATUSES:
            _finish(record, response)
        else:
            _release(record)
    elif response.status not in STORED_STATUSES:
        _release(record)
    return response


def purge_idempotency_records(older_than: dt.timedelta | None = None) -> int:
    """Delete answers older than the retention period; returns how many were deleted."""
    age = older_than or dt.timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=clock.now() - age).delete()
    return deleted
