"""Kernel tables: business date, idempotency records, outbox events, audit log, EOD runs."""

from __future__ import annotations

from typing import Any

from django.db import models

from rongshu.kernel.ids import new_id


class BusinessDate(models.Model):
    """One row (pk=1): the date the books are on."""

    date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.date.isoformat()


class IdempotencyRecord(models.Model):
    IN_FLIGHT = "in_flight"
    DONE = "done"
    STATES = [(IN_FLIGHT, "in flight"), (DONE, "done")]

    scope = models.CharField(max_length=200)  # who: principal, so keys of two clients never meet
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    state = models.CharField(max_length=10, choices=STATES, default=IN_FLIGHT)
    lease_until = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_uniq")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} ({self.state})"


class OutboxEvent(models.Model):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    STATES = [(PENDING, "pending"), (DELIVERED, "delivered"), (DEAD, "dead letter")]

    event_id = models.UUIDField(default=new_id, unique=True, editable=False)
    event_type = models.CharField(max_length=120)
    payload = models.JSONField()
    # At most one event per (type, key): a retried command records its event only once.
    dedupe_key = models.CharField(max_length=200, null=True)  # noqa: DJ001
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    delivered_handlers = models.JSONField(default=list)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True)

    class Meta:
        # Declared here rather than as unique=True / db_index=True on the fields: on
        # PostgreSQL those also build a varchar_pattern_ops ("_like") index per column, for
        # LIKE queries nothing runs — two more index entries for every event on the hot path.
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="kernel_outbox_dedupe_key_uniq")
        ]
        # No index on event_type: every look-up by type also asks for dead letters, which
        # the state index finds (one index entry fewer per event).
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.state})"


class AuditEntry(models.Model):
    """Append-only, hash-chained: each entry's hash covers its content and the previous hash."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=120, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=80, blank=True, db_index=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit entries are append-only")


class AuditHead(models.Model):
    """One row (pk=1) locked while appending, so the chain has one writer at a time."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class EodRun(models.Model):
    """One end-of-day job run for one business date (a date's job runs once)."""

    business_date = models.DateField()
    job = models.CharField(max_length=80)
    status = models.CharField(max_length=10, default="running")
    detail = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["business_date", "job"], name="eod_run_date_job_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.job} {self.status}"
