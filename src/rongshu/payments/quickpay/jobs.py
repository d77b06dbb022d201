"""Quick pay's scheduled and after-commit work.

- End of day ``payments.expire_pending_bindings``: a binding started but never confirmed whose
  one-time code has run out becomes ``expired`` (the customer's list hides it; its merchant is
  notified).
- Outbox handlers of the account's status (``ledger.AccountStatusChanged``) and of the
  customer's sharing consent (``identity.ConsentWithdrawn`` / ``ConsentGranted``): an active
  binding whose suspension changes (frozen, closed, consent withdrawn, or back to normal) is
  notified to its merchant as ``binding.suspended`` or ``binding.resumed``, once per change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Q

from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.eod import eod_job
from rongshu.kernel.models import OutboxEvent
from rongshu.kernel.outbox import handles
from rongshu.payments.models import QuickPayBinding
from rongshu.payments.quickpay import notify
from rongshu.payments.quickpay.services import (
    CONSENT_PURPOSE,
    EXPIRED_BY,
    LEGACY_PENDING_TTL,
    _suspension,
)


def do_expire_pending_bindings(now: dt.datetime | None = None) -> int:
    """Expire the pending bindings whose one-time code has run out (in the caller's
    transaction; each row locked, so a confirmation in flight either wins or finds it
    expired). Returns how many."""
    now = now or clock.now()
    stale = (
        QuickPayBinding.objects.select_for_update(of=("self",))
        .select_related("merchant")
        .filter(state=QuickPayBinding.PENDING)
        .filter(
            Q(code_expires_at__lte=now)
            | Q(code_expires_at__isnull=True, created_at__lte=now - LEGACY_PENDING_TTL)
        )
        .order_by("pk")
    )
    urls: dict[int, str] = {}
    count = 0
    for binding in stale:
        binding.state = QuickPayBinding.EXPIRED
        binding.revoked_at = now
        binding.revoked_by = EXPIRED_BY
        binding.save(update_fields=["state", "revoked_at", "revoked_by"])
        if binding.merchant_id not in urls:
            urls[binding.merchant_id] = notify.notify_url_of(binding.merchant_id)
        notify.record_notification(
            binding.merchant,
            urls[binding.merchant_id],
            "binding.expired",
            notify.binding_data(binding.public_id, QuickPayBinding.EXPIRED, "code_expired"),
        )
        count += 1
    if count:
        do_audit("system:eod", "payments.quickpay_bindings_expired", data={"expired": count})
    return count


@eod_job("payments.expire_pending_bindings", order=55)
def expire_pending_bindings(business_date: dt.date) -> dict[str, Any]:
    return {"expired": do_expire_pending_bindings()}


def report_suspensions(bindings: Any) -> int:
    """Notify each active binding whose suspension differs from the one last reported."""
    changed = 0
    for binding in bindings.select_for_update(of=("self",)).select_related("merchant"):
        if binding.state != QuickPayBinding.ACTIVE:
            continue
        reason = _suspension(binding)
        if reason == binding.reported_suspension:
            continue
        binding.reported_suspension = reason
        binding.save(update_fields=["reported_suspension"])
        notify.record_notification(
            binding.merchant,
            notify.notify_url_of(binding.merchant_id),
            "binding.suspended" if reason else "binding.resumed",
            notify.binding_data(binding.public_id, "suspended" if reason else "active", reason),
        )
        changed += 1
    return changed


@handles("ledger.AccountStatusChanged", name="payments.quickpay_account_status")
def on_account_status(event: OutboxEvent) -> None:
    try:
        account_id = uuid.UUID(str(event.payload.get("account", "")))
    except ValueError:
        return
    report_suspensions(
        QuickPayBinding.objects.filter(debit_account_id=account_id, state=QuickPayBinding.ACTIVE)
    )


@handles("identity.ConsentWithdrawn", name="payments.quickpay_consent_withdrawn")
@handles("identity.ConsentGranted", name="payments.quickpay_consent_granted")
def on_consent(event: OutboxEvent) -> None:
    if event.payload.get("purpose") != CONSENT_PURPOSE:
        return
    try:
        customer_id = uuid.UUID(str(event.payload.get("customer_id", "")))
    except ValueError:
        return
    report_suspensions(
        QuickPayBinding.objects.filter(customer_id=customer_id, state=QuickPayBinding.ACTIVE)
    )
