"""The notification centre's write side: in-app messages and their delivery by SMS.

:func:`do_notify` stores one message (idempotent by ``dedupe_key``) and, when the customer
chose SMS for that kind, a delivery row due now or at the end of their quiet hours.
:func:`do_deliver_pending` sends due deliveries through identity's SMS gateway port after
commit (and from the EOD job); a provider refusal is retried up to 5 times.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import IntegrityError, transaction

from rongshu.accounts.models import AccountHolder, Notification, NotificationDelivery
from rongshu.identity.services import SmsError, get_gateway
from rongshu.kernel import clock

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def in_quiet_hours(holder: AccountHolder, at: dt.datetime) -> dt.datetime | None:
    """When the quiet period containing ``at`` ends (None: not quiet)."""
    start, end = holder.quiet_start, holder.quiet_end
    if start is None or end is None or start == end:
        return None
    local = at.astimezone(clock.bank_zone())
    now_t = local.timetz().replace(tzinfo=None)
    if start < end:
        quiet = start <= now_t < end
        end_day = local.date()
    else:  # across midnight, e.g. 22:00–07:00
        quiet = now_t >= start or now_t < end
        end_day = local.date() + dt.timedelta(days=1) if now_t >= start else local.date()
    if not quiet:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=clock.bank_zone()).astimezone(dt.UTC)


def do_notify(
    customer_id: uuid.UUID | str,
    kind: str,
    title: str,
    body: str,
    *,
    dedupe_key: str,
    account_number: str = "",
    holder: AccountHolder | None = None,
) -> Notification | None:
    """Store a message once per ``dedupe_key``; returns None when it already existed."""
    now = clock.now()
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                customer_id=customer_id,
                kind=kind,
                title=title[:200],
                body=body[:1000],
                account_number=account_number,
                dedupe_key=dedupe_key[:120],
                created_at=now,
            )
    except IntegrityError:
        return None
    holder = holder or AccountHolder.objects.filter(customer_id=customer_id).first()
    if holder is not None and holder.phone and kind in holder.sms_kinds:
        NotificationDelivery.objects.create(
            notification=note,
            channel="sms",
            destination=holder.phone,
            send_after=in_quiet_hours(holder, now) or now,
        )
        transaction.on_commit(lambda: do_deliver_pending(limit=50))
    return note


def do_deliver_pending(*, limit: int = 1000) -> tuple[int, int]:
    """Send due deliveries; returns (sent, failed attempts)."""
    now = clock.now()
    sent = failed = 0
    due = list(
        NotificationDelivery.objects.filter(
            state=NotificationDelivery.PENDING, send_after__lte=now
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        with transaction.atomic():
            delivery = (
                NotificationDelivery.objects.select_for_update()
                .select_related("notification")
                .filter(pk=pk, state=NotificationDelivery.PENDING)
                .first()
            )
            if delivery is None:
                continue
            note = delivery.notification
            text = f"【榕树银行】{note.title}：{note.body}"
            delivery.attempts += 1
            try:
                get_gateway().send(delivery.destination, text)
            except SmsError as exc:
                failed += 1
                delivery.error = str(exc)[:300]
                if delivery.attempts >= MAX_ATTEMPTS or not exc.retryable:
                    delivery.state = NotificationDelivery.FAILED
                else:
                    delivery.send_after = now + dt.timedelta(seconds=30 * delivery.attempts)
                logger.warning("notification SMS %s not sent: %s", delivery.pk, exc)
            else:
                sent += 1
                delivery.state = NotificationDelivery.SENT
                delivery.sent_at = clock.now()
            delivery.save()
    return sent, failed
