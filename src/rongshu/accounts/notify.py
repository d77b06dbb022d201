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
from django.utils.translation import gettext, gettext_noop

from rongshu.accounts.models import AccountHolder, Notification, NotificationDelivery
from rongshu.identity.services import SmsError, get_gateway
from rongshu.kernel import clock

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5

# Message titles: the English msgid (translated for each reader when shown) → the stored
# bilingual text (SMS, and rows written before titles were translated at display time).
TITLES: dict[str, str] = {
    gettext_noop("New account opened"): "新账户已开立 New account opened",
    gettext_noop("Funds held"): "资金冻结 Funds held",
    gettext_noop("Money in"): "入账 Money in",
    gettext_noop("Money out"): "支出 Money out",
    gettext_noop("Account frozen"): "账户已冻结 Account frozen",
    gettext_noop("Payments out stopped"): "账户已止付 Payments out stopped",
    gettext_noop("Account unfrozen"): "账户已恢复 Account unfrozen",
    gettext_noop("Account closed"): "账户已销户 Account closed",
    gettext_noop(
        "Account not closed: the transfer came back"
    ): "销户未完成：转账被退回 Account not closed: the transfer came back",
    gettext_noop(
        "Account not closed: money arrived while closing"
    ): "销户未完成：销户期间有资金入账 Account not closed: money arrived while closing",
    gettext_noop("Payment settled"): "付款成功 Payment settled",
    gettext_noop("Payment rejected"): "付款被拒 Payment rejected",
    gettext_noop("Payment returned"): "付款退回 Payment returned",
    gettext_noop("Payment refunded"): "已退款 Payment refunded",
    gettext_noop("Payment %(status)s"): "付款状态 Payment %(status)s",
    gettext_noop("E-statement %(month)s"): "%(month)s 电子对账单 e-statement",
    gettext_noop("Deposit certificate issued"): "存款证明已开立 Deposit certificate issued",
    gettext_noop(
        "Deposit certificate freeze released"
    ): "存款证明冻结已解除 Deposit certificate freeze released",
}


def stored_title(msgid: str, params: dict[str, str] | None = None) -> str:
    """The bilingual text stored with a message (what an SMS says)."""
    return TITLES.get(msgid, msgid) % (params or {})


def display_title(title: str, msgid: str, params: dict[str, str] | None) -> str:
    """A message's title in the active language (the stored text for legacy rows)."""
    if not msgid:
        return title
    try:
        return gettext(msgid) % (params or {})
    except (KeyError, TypeError, ValueError):
        return title


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
    title_msgid: str = "",
    title_params: dict[str, str] | None = None,
) -> Notification | None:
    """Store a message once per ``dedupe_key``; returns None when it already existed.

    With ``title_msgid`` (an English msgid, ``%(name)s`` placeholders filled from
    ``title_params``) the title is translated for each reader when shown; ``title`` is then
    the stored bilingual text (empty: taken from :data:`TITLES`)."""
    now = clock.now()
    if title_msgid and not title:
        title = stored_title(title_msgid, title_params)
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                customer_id=customer_id,
                kind=kind,
                title=title[:200],
                title_msgid=title_msgid[:200],
                title_params=title_params or {},
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
