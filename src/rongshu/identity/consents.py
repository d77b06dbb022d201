"""PIPL consents: separate consent per purpose, with timestamps and the notice version shown.

Records are append-only; the latest record per (customer, purpose) is in force. Withdrawing
records ``identity.ConsentWithdrawn`` in the outbox, which later domains must honour.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from rongshu.identity.errors import CustomerNotFound, UnknownPurpose
from rongshu.identity.events import ConsentGranted, ConsentWithdrawn
from rongshu.identity.models import ConsentRecord, CustomerCredential
from rongshu.identity.types import CURRENT_NOTICE_VERSION, ConsentPurpose
from rongshu.kernel import clock
from rongshu.kernel.audit import AuditItem, do_audit, do_audit_many
from rongshu.kernel.outbox import record_event, record_events


def _purpose(value: str) -> ConsentPurpose:
    try:
        return ConsentPurpose(value)
    except ValueError as exc:
        raise UnknownPurpose() from exc


def _customer(customer_id: uuid.UUID | str) -> CustomerCredential:
    credential = CustomerCredential.objects.filter(public_id=customer_id).first()
    if credential is None:
        raise CustomerNotFound()
    return credential


def _latest(customer_pk: int, purpose: str) -> ConsentRecord | None:
    return (
        ConsentRecord.objects.filter(customer_id=customer_pk, purpose=purpose)
        .order_by("-at", "-pk")
        .first()
    )


def has_consent(customer_id: uuid.UUID | str, purpose: str) -> bool:
    """Whether the customer's consent for ``purpose`` is in force (public API)."""
    p = _purpose(purpose)
    pk = (
        CustomerCredential.objects.filter(public_id=customer_id)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        return False
    latest = _latest(pk, p.value)
    return latest is not None and latest.granted


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    granted: bool
    notice_version: str
    at: dt.datetime | None


def list_consents(customer_id: uuid.UUID | str) -> list[ConsentState]:
    credential = _customer(customer_id)
    states = []
    for purpose in ConsentPurpose:
        latest = _latest(credential.pk, purpose.value)
        states.append(
            ConsentState(
                purpose.value,
                bool(latest and latest.granted),
                latest.notice_version if latest else "",
                latest.at if latest else None,
            )
        )
    return states


def do_set_consent(
    customer_id: uuid.UUID | str,
    purpose: str,
    granted: bool,
    *,
    notice_version: str = CURRENT_NOTICE_VERSION,
    channel: str = "web",
) -> ConsentState:
    """Grant or withdraw a purpose; a no-op change records nothing."""
    p = _purpose(purpose)
    credential = _customer(customer_id)
    latest = _latest(credential.pk, p.value)
    if latest is not None and latest.granted == granted and latest.notice_version == notice_version:
        return ConsentState(p.value, granted, latest.notice_version, latest.at)
    if latest is None and not granted:
        return ConsentState(p.value, False, "", None)
    now = clock.now()
    record = ConsentRecord.objects.create(
        customer=credential,
        purpose=p.value,
        granted=granted,
        notice_version=notice_version[:20],
        channel=channel[:20],
        at=now,
    )
    event_cls = ConsentGranted if granted else ConsentWithdrawn
    record_event(
        event_cls(
            customer_id=str(credential.public_id),
            purpose=p.value,
            notice_version=record.notice_version,
            at=now.isoformat(),
        ),
        dedupe_key=f"identity.consent:{record.pk}",
    )
    do_audit(
        f"customer:{credential.public_id}",
        "identity.consent_granted" if granted else "identity.consent_withdrawn",
        object_type="customer",
        object_id=str(credential.public_id),
        data={"purpose": p.value, "notice_version": record.notice_version, "channel": channel},
    )
    return ConsentState(p.value, granted, record.notice_version, now)


def do_grant_consents(
    customer_ids: Sequence[uuid.UUID | str],
    purpose: str,
    *,
    notice_version: str = CURRENT_NOTICE_VERSION,
    channel: str = "web",
) -> int:
    """Grant ``purpose`` to many customers at once (a bulk load: one INSERT each for the
    records, their events and their audit entries). Records, events and audit entries are those
    :func:`do_set_consent` would record customer by customer; a customer whose grant of this
    notice version is already in force records nothing. Returns how many grants were recorded."""
    p = _purpose(purpose)
    wanted = {str(c) for c in customer_ids}
    credentials = list(CustomerCredential.objects.filter(public_id__in=wanted).order_by("pk"))
    if len(credentials) != len(wanted):
        raise CustomerNotFound()
    in_force: dict[int, ConsentRecord] = {}
    for record in ConsentRecord.objects.filter(
        customer_id__in=[c.pk for c in credentials], purpose=p.value
    ).order_by("at", "pk"):
        in_force[record.customer_id] = record  # the latest wins
    version = notice_version[:20]
    todo = [
        c
        for c in credentials
        if not (
            (latest := in_force.get(c.pk)) is not None
            and latest.granted
            and latest.notice_version == notice_version
        )
    ]
    if not todo:
        return 0
    now = clock.now()
    records = ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                customer=c,
                purpose=p.value,
                granted=True,
                notice_version=version,
                channel=channel[:20],
                at=now,
            )
            for c in todo
        ],
        batch_size=500,
    )
    record_events(
        [
            (
                ConsentGranted(
                    customer_id=str(c.public_id),
                    purpose=p.value,
                    notice_version=version,
                    at=now.isoformat(),
                ),
                f"identity.consent:{r.pk}",
            )
            for c, r in zip(todo, records, strict=True)
        ]
    )
    do_audit_many(
        [
            AuditItem(
                f"customer:{c.public_id}",
                "identity.consent_granted",
                object_type="customer",
                object_id=str(c.public_id),
                data={"purpose": p.value, "notice_version": version, "channel": channel},
            )
            for c in todo
        ]
    )
    return len(todo)
