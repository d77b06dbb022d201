"""Tamper-evident audit log: append-only and hash-chained.

Each entry's hash is ``sha256(prev_hash ‖ canonical JSON of the entry)``. Changing, removing or
reordering any entry breaks every later hash, which :func:`verify_chain` (``rongshu audit
verify``) detects. Appends lock a single head row so the chain has exactly one writer at a time
on every database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from rongshu.kernel import clock
from rongshu.kernel.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(
        entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    ).encode()


def entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(content)).hexdigest()


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "data": entry.data,
    }


def do_audit(
    actor: str,
    action: str,
    *,
    object_type: str = "",
    object_id: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry (in the caller's transaction: it is kept only if the action is)."""
    return do_audit_many([AuditItem(actor, action, object_type, str(object_id), data)])[0]


def do_audit_many(entries: Sequence[AuditItem]) -> list[AuditEntry]:
    """Append several entries in order with one INSERT (in the caller's transaction), chained
    exactly as the same :func:`do_audit` calls one after another would chain them."""
    if not entries:
        return []
    now = clock.now().astimezone(dt.UTC)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        seq, prev = head.seq, head.hash
        rows: list[AuditEntry] = []
        for item in entries:
            seq += 1
            entry = AuditEntry(
                seq=seq,
                at=now,
                actor=item.actor,
                action=item.action,
                object_type=item.object_type,
                object_id=str(item.object_id),
                # round-trip through JSON so what is hashed is exactly what is stored
                data=json.loads(_canonical(item.data or {})),
                prev_hash=prev,
            )
            entry.hash = prev = entry_hash(prev, _content(entry))
            rows.append(entry)
        AuditEntry.objects.bulk_create(rows, batch_size=500)
        head.seq, head.hash = seq, prev
        head.save()
    return rows


@dataclass(frozen=True)
class AuditItem:
    """One entry for :func:`do_audit_many` (the arguments of :func:`do_audit`)."""

    actor: str
    action: str
    object_type: str = ""
    object_id: str = ""
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify_chain() -> ChainReport:
    """Recompute every hash in order; report the first entry that does not match."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return ChainReport(False, count, entry.seq, f"gap: expected #{expected_seq}")
        if entry.prev_hash != prev:
            return ChainReport(False, count, entry.seq, "previous hash does not match")
        if entry_hash(prev, _content(entry)) != entry.hash:
            return ChainReport(False, count, entry.seq, "content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        count += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != count or head.hash != prev):
        return ChainReport(False, count, head.seq, "entries were removed from the end")
    return ChainReport(True, count)
