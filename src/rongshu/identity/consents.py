"""PIPL consents: separate consent per purpose, with timestamps and the notice version shown.

Records are append-only; the latest record per (customer, purpose) is in force. Withdrawing
records ``identity.ConsentWithdrawn`` in the outbox, which later domains must honour.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from rongshu.identity.errors import CustomerNotFound, UnknownPurpose
from rongshu.identity.events import ConsentGranted, ConsentWithdrawn
from rongshu.identity.models import ConsentRecord, CustomerCredential
from rongshu.identity.types import CURRENT_NOTICE_VERSION, ConsentPurpose
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.outbox import record_event


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
