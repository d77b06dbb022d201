"""Partner notifications (the ``notify_url`` of 快捷支付): signed JSON POSTs to a quick-pay
merchant when one of its bindings changes state or one of its debits settles or is refunded.

A notification is written in the business transaction (a :class:`QuickPayNotification` row and
an outbox event in the same transaction, so a rolled-back debit notifies nobody) and delivered
after commit by the outbox handler :func:`deliver_notification`, never inside the money
transaction. A delivery that fails (no answer, a timeout, a status other than 2xx) raises, so
the outbox retries it with backoff; after ``OUTBOX_MAX_ATTEMPTS`` it is a dead letter, listed on
the merchant's console page with a resend action. Delivery is at least once: every notification
carries a stable ``event_id`` (also in ``X-Rongshu-Event-Id``) the partner de-duplicates on.

Signature: the partner client's webhook secret (identity's, rotated by the partner with
``POST /identity/partner/webhook-secret``) signs ``"<timestamp>.<body>"`` with HMAC-SHA256;
headers ``X-Rongshu-Timestamp: <unix seconds>`` and ``X-Rongshu-Signature: t=<unix>,v1=<hex>``.
:func:`verify_signature` is the partner's check.

Delivery goes through a :class:`PartnerNotifier`: the in-process :class:`SimulatedNotifier`
(default, and in tests; it records deliveries and can be told to fail, time out or answer 5xx
for a URL) or :class:`HttpNotifier` (``urllib.request``), chosen by the setting
``RONGSHU_QUICKPAY_NOTIFIER`` (``"simulator"`` or ``"http"``; timeout
``RONGSHU_QUICKPAY_NOTIFY_TIMEOUT_S``, 5 s).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import InvalidInput
from rongshu.kernel.models import OutboxEvent
from rongshu.kernel.money import Money
from rongshu.kernel.outbox import (
    DomainEvent,
    dispatch_after_commit,
    do_retry_dead_letter,
    handles,
    record_events,
)
from rongshu.payments.errors import QuickPayConflict, QuickPayMerchantUnavailable
from rongshu.payments.models import Merchant, QuickPayMerchant, QuickPayNotification

NOTIFY_EVENT = "payments.QuickPayNotificationDue"
HANDLER = "payments.quickpay_notify_partner"
TIMESTAMP_HEADER = "X-Rongshu-Timestamp"
SIGNATURE_HEADER = "X-Rongshu-Signature"
EVENT_ID_HEADER = "X-Rongshu-Event-Id"
EVENT_TYPE_HEADER = "X-Rongshu-Event-Type"
SIGNATURE_TOLERANCE_S = 300  # a partner refuses a timestamp further off than this
EVENT_TYPES = (
    "binding.active",
    "binding.suspended",
    "binding.resumed",
    "binding.revoked",
    "binding.expired",
    "debit.settled",
    "debit.refunded",
)


def dedupe_key(event_id: uuid.UUID | str) -> str:
    return f"quickpay.notify:{event_id}"


@dataclass(frozen=True)
class QuickPayNotificationDue(DomainEvent):
    event_type: ClassVar[str] = NOTIFY_EVENT
    notification_id: str


# ------------------------------------------------------------------ recording (in the txn)
def notify_url_of(merchant_id: int) -> str:
    """The merchant's notification URL ("" when it has none, or is not a quick-pay merchant)."""
    return (
        QuickPayMerchant.objects.filter(merchant_id=merchant_id)
        .values_list("notify_url", flat=True)
        .first()
    ) or ""


def record_notification(
    merchant: Merchant, notify_url: str, event_type: str, data: dict[str, Any]
) -> QuickPayNotification | None:
    """Queue a notification to ``merchant`` in the current transaction (nothing when it has no
    ``notify_url``): one row and one outbox event, delivered after commit."""
    if not notify_url:
        return None
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown quick-pay notification type {event_type}")
    now = clock.now()
    event_id = uuid.uuid4()
    body = {
        "event_id": str(event_id),
        "type": event_type,
        "merchant_code": merchant.merchant_code,
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        **data,
    }
    row = QuickPayNotification.objects.create(
        event_id=event_id, merchant=merchant, event_type=event_type, body=body, created_at=now
    )
    record_events([(QuickPayNotificationDue(str(event_id)), dedupe_key(event_id))])
    return row


def binding_data(binding_id: uuid.UUID, state: str, reason: str = "") -> dict[str, Any]:
    return {"binding": {"id": str(binding_id), "state": state, "reason": reason}}


def debit_data(
    *,
    debit_id: uuid.UUID,
    binding_id: uuid.UUID,
    client_order_id: str,
    state: str,
    amount: Money,
    refunded: Money,
    merchant_fee: Money,
    refund: tuple[uuid.UUID, Money] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "binding": {"id": str(binding_id)},
        "debit": {
            "id": str(debit_id),
            "client_order_id": client_order_id,
            "state": state,
            "amount": amount.to_json(),
            "refunded": refunded.to_json(),
            "merchant_fee": merchant_fee.to_json(),
        },
    }
    if refund is not None:
        data["refund"] = {"id": str(refund[0]), "amount": refund[1].to_json()}
    return data


# ------------------------------------------------------------------ signing
def encode_body(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, sorted keys, UTF-8."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` (identity's webhook format)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: dt.datetime | None = None,
    tolerance_s: int = SIGNATURE_TOLERANCE_S,
) -> bool:
    """What a partner does with a notification: the signature matches the body and the
    timestamp header, and the timestamp is recent (a replayed old request is refused)."""
    try:
        parts = dict(p.split("=", 1) for p in signature.split(","))
        signed_at = int(parts["t"])
        if signed_at != int(timestamp):
            return False
    except (KeyError, ValueError):
        return False
    current = (now or clock.now()).timestamp()
    if abs(current - signed_at) > tolerance_s:
        return False
    expected = sign(secret, body, signed_at)
    return hmac.compare_digest(expected, signature)


# ------------------------------------------------------------------ notifiers
@dataclass(frozen=True)
class DeliveryResult:
    status: int | None  # the HTTP status; None when there was no answer
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class PartnerNotifier(Protocol):
    def deliver(self, url: str, body: bytes, headers: dict[str, str]) -> DeliveryResult: ...


@dataclass(frozen=True)
class Delivery:
    url: str
    body: bytes
    headers: dict[str, str]
    result: DeliveryResult
    at: dt.datetime

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class _Fault:
    mode: str  # "down" | "timeout" | "status"
    status: int
    times: int | None  # failures left (None: until cleared)
    delay_s: float


class SimulatedNotifier:
    """An in-process partner endpoint: records every delivery; per URL it can be told to be
    down, time out, answer an HTTP status (5xx) a number of times, or answer late."""

    FAULTS: ClassVar[tuple[str, ...]] = ("down", "timeout", "status")

    def __init__(self, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s
        self.deliveries: list[Delivery] = []
        self._faults: dict[str, _Fault] = {}
        self._delays: dict[str, float] = {}
        self._lock = threading.Lock()

    def fail(
        self,
        url: str,
        mode: str = "status",
        *,
        status: int = 503,
        times: int | None = None,
        delay_s: float = 0.0,
    ) -> None:
        if mode not in self.FAULTS:
            raise ValueError(f"unknown fault {mode}")
        self._faults[url] = _Fault(mode, status, times, delay_s)

    def delay(self, url: str, seconds: float) -> None:
        """Answer 200, but only after ``seconds`` (a timeout when over the notifier's)."""
        self._delays[url] = seconds

    def heal(self, url: str | None = None) -> None:
        if url is None:
            self._faults.clear()
            self._delays.clear()
        else:
            self._faults.pop(url, None)
            self._delays.pop(url, None)

    def reset(self) -> None:
        self.heal()
        self.deliveries.clear()

    def for_url(self, url: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.url == url]

    def _timeout(self) -> float:
        return self.timeout_s if self.timeout_s is not None else _timeout_setting()

    def _answer(self, url: str) -> DeliveryResult:
        timeout = self._timeout()
        with self._lock:
            fault = self._faults.get(url)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times < 0:
                    self._faults.pop(url, None)
                    fault = None
        late = self._delays.get(url, 0.0) + (fault.delay_s if fault else 0.0)
        if late:
            time.sleep(min(late, timeout))
            if late >= timeout:
                return DeliveryResult(None, f"timed out after {timeout:g} s")
        if fault is None:
            return DeliveryResult(200)
        if fault.mode == "down":
            return DeliveryResult(None, "connection refused")
        if fault.mode == "timeout":
            return DeliveryResult(None, f"timed out after {timeout:g} s")
        return DeliveryResult(fault.status, f"HTTP {fault.status}")

    def deliver(self, url: str, body: bytes, headers: dict[str, str]) -> DeliveryResult:
        result = self._answer(url)
        with self._lock:
            self.deliveries.append(Delivery(url, body, dict(headers), result, clock.now()))
        return result


class HttpNotifier:
    """Real delivery with ``urllib.request``: a POST with a timeout; any 2xx is delivered."""

    def __init__(self, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s

    def deliver(self, url: str, body: bytes, headers: dict[str, str]) -> DeliveryResult:
        if not url.lower().startswith(("https://", "http://")):
            return DeliveryResult(None, "not an http(s) URL")
        timeout = self.timeout_s if self.timeout_s is not None else _timeout_setting()
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                return DeliveryResult(int(answer.status))
        except urllib.error.HTTPError as exc:
            return DeliveryResult(int(exc.code), f"HTTP {exc.code}")
        except TimeoutError:
            return DeliveryResult(None, f"timed out after {timeout:g} s")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return DeliveryResult(None, f"{type(exc).__name__}: {reason}"[:300])


def _timeout_setting() -> float:
    return float(getattr(settings, "RONGSHU_QUICKPAY_NOTIFY_TIMEOUT_S", 5.0))


SIMULATOR = SimulatedNotifier()
_installed: PartnerNotifier | None = None


def notifier() -> PartnerNotifier:
    """The notifier in use: one installed with :func:`use_notifier`, else the setting's."""
    if _installed is not None:
        return _installed
    kind = str(getattr(settings, "RONGSHU_QUICKPAY_NOTIFIER", "simulator"))
    if kind == "http":
        return HttpNotifier()
    if kind != "simulator":
        raise ValueError(f"RONGSHU_QUICKPAY_NOTIFIER must be simulator or http, not {kind!r}")
    return SIMULATOR


@contextmanager
def use_notifier(chosen: PartnerNotifier) -> Iterator[PartnerNotifier]:
    global _installed
    previous, _installed = _installed, chosen
    try:
        yield chosen
    finally:
        _installed = previous


class NotificationFailed(RuntimeError):
    """A delivery that did not get a 2xx: the outbox retries it."""


# ------------------------------------------------------------------ delivery (after commit)
@handles(NOTIFY_EVENT, name=HANDLER, external=True)
def deliver_notification(event: OutboxEvent) -> None:
    """Sign and POST one notification; raise unless the partner answers 2xx."""
    notification = (
        QuickPayNotification.objects.select_related("merchant")
        .filter(event_id=event.payload["notification_id"])
        .first()
    )
    if notification is None:  # its transaction rolled back after all: nothing to send
        return
    merchant = notification.merchant
    url = notify_url_of(merchant.pk)
    if not url:
        raise NotificationFailed("The merchant has no notification URL.")
    body = encode_body(notification.body)
    timestamp = int(clock.now().timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "rongshu-quickpay-notifier/1",
        EVENT_ID_HEADER: str(notification.event_id),
        EVENT_TYPE_HEADER: notification.event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: identity.sign_webhook(merchant.partner_client_id, body, timestamp),
    }
    result = notifier().deliver(url, body, headers)
    if not result.delivered:
        raise NotificationFailed(result.error or f"HTTP {result.status}")
    QuickPayNotification.objects.filter(pk=notification.pk).update(
        delivered_at=notification.delivered_at or clock.now(),
        deliveries=notification.deliveries + 1,
        last_status=result.status,
    )


# ------------------------------------------------------------------ console (staff)
@dataclass(frozen=True)
class NotificationView:
    event_id: uuid.UUID
    event_type: str
    merchant_code: str
    state: str  # pending | retrying | delivered | failed
    attempts: int
    last_error: str
    last_status: int | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    body: dict[str, Any]


@dataclass(frozen=True)
class NotifySettingsView:
    merchant_code: str
    name: str
    partner_client_id: str
    notify_url: str
    active: bool
    failed: int
    notifications: list[NotificationView]


def _state(event: OutboxEvent | None) -> str:
    if event is None:
        return "pending"
    if event.state == OutboxEvent.DEAD:
        return "failed"
    if event.state == OutboxEvent.DELIVERED:
        return "delivered"
    return "retrying" if event.attempts else "pending"


def _views(rows: list[QuickPayNotification]) -> list[NotificationView]:
    events = {
        e.dedupe_key: e
        for e in OutboxEvent.objects.filter(dedupe_key__in=[dedupe_key(r.event_id) for r in rows])
    }
    views = []
    for row in rows:
        event = events.get(dedupe_key(row.event_id))
        views.append(
            NotificationView(
                event_id=row.event_id,
                event_type=row.event_type,
                merchant_code=row.merchant.merchant_code,
                state=_state(event),
                attempts=event.attempts if event else 0,
                last_error=event.last_error if event and event.state != "delivered" else "",
                last_status=row.last_status,
                created_at=row.created_at,
                delivered_at=row.delivered_at,
                body=dict(row.body),
            )
        )
    return views


def _failed_ids(merchant: Merchant | None = None) -> list[str]:
    """The notification ids whose outbox event is a dead letter (few: the outbox gave up)."""
    ids = [
        str(p.get("notification_id", ""))
        for p in OutboxEvent.objects.filter(
            event_type=NOTIFY_EVENT, state=OutboxEvent.DEAD
        ).values_list("payload", flat=True)
    ]
    if merchant is None:
        return ids
    return [
        str(i)
        for i in QuickPayNotification.objects.filter(
            event_id__in=ids, merchant=merchant
        ).values_list("event_id", flat=True)
    ]


def _program(merchant_code: str) -> QuickPayMerchant:
    program = (
        QuickPayMerchant.objects.select_related("merchant")
        .filter(merchant__merchant_code=merchant_code)
        .first()
    )
    if program is None:
        raise QuickPayMerchantUnavailable(
            "No quick-pay merchant has this code.", code="quickpay.merchant_unknown"
        )
    return program


def list_notify_merchants(principal: Principal) -> list[NotifySettingsView]:
    """Staff (``payment.view``): the quick-pay merchants, their URL and failed count."""
    identity.check_permission(principal, Action.PAYMENT_VIEW)
    failed: dict[str, int] = {}
    ids = _failed_ids()
    for code in QuickPayNotification.objects.filter(event_id__in=ids).values_list(
        "merchant__merchant_code", flat=True
    ):
        failed[code] = failed.get(code, 0) + 1
    rows = QuickPayMerchant.objects.select_related("merchant").order_by("merchant__merchant_code")
    return [
        NotifySettingsView(
            merchant_code=p.merchant.merchant_code,
            name=p.merchant.name,
            partner_client_id=p.merchant.partner_client_id,
            notify_url=p.notify_url,
            active=p.active,
            failed=failed.get(p.merchant.merchant_code, 0),
            notifications=[],
        )
        for p in rows
    ]


def access_notify_settings(
    principal: Principal, merchant_code: str, *, failed_only: bool = False, limit: int = 50
) -> NotifySettingsView:
    """Staff (``payment.view``): a merchant's notification URL and its latest notifications
    (or only those the outbox gave up on)."""
    identity.check_permission(principal, Action.PAYMENT_VIEW)
    program = _program(merchant_code)
    failed_ids = _failed_ids(program.merchant)
    rows = QuickPayNotification.objects.select_related("merchant").filter(merchant=program.merchant)
    if failed_only:
        rows = rows.filter(event_id__in=failed_ids)
    found = list(rows.order_by("-created_at", "-pk")[: max(1, min(limit, 200))])
    return NotifySettingsView(
        merchant_code=program.merchant.merchant_code,
        name=program.merchant.name,
        partner_client_id=program.merchant.partner_client_id,
        notify_url=program.notify_url,
        active=program.active,
        failed=len(failed_ids),
        notifications=_views(found),
    )


@transaction.atomic
def do_set_notify_url(principal: Principal, merchant_code: str, url: str) -> NotifySettingsView:
    """Staff (``payment.manage``) set or clear (blank) a merchant's notification URL
    (http or https; audited)."""
    identity.check_permission(principal, Action.PAYMENT_MANAGE)
    url = url.strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise InvalidInput(
                "The notification URL must be an http or https address.",
                code="quickpay.notify_url_invalid",
            ) from exc
        if len(url) > 500:
            raise InvalidInput("The URL is too long.", code="quickpay.notify_url_invalid")
    program = _program(merchant_code)
    old = program.notify_url
    program.notify_url = url
    program.save(update_fields=["notify_url"])
    do_audit(
        principal.principal_key,
        "payments.quickpay_notify_url_set",
        object_type="quickpay_merchant",
        object_id=merchant_code,
        data={"old": old, "new": url},
    )
    return access_notify_settings(principal, merchant_code)


@transaction.atomic
def do_resend_notification(
    principal: Principal, merchant_code: str, event_id: uuid.UUID | str
) -> NotificationView:
    """Staff (``payment.manage``) put a failed notification (a dead letter) back in the queue;
    it is delivered after commit with the same ``event_id`` (audited)."""
    identity.check_permission(principal, Action.PAYMENT_MANAGE)
    program = _program(merchant_code)
    try:
        public_id = uuid.UUID(str(event_id))
    except ValueError as exc:
        raise QuickPayConflict(
            "No such failed notification.", code="quickpay.notification_not_failed"
        ) from exc
    row = (
        QuickPayNotification.objects.select_related("merchant")
        .filter(event_id=public_id, merchant=program.merchant)
        .first()
    )
    event = (
        OutboxEvent.objects.select_for_update().filter(dedupe_key=dedupe_key(public_id)).first()
        if row is not None
        else None
    )
    if row is None or event is None or event.state != OutboxEvent.DEAD:
        raise QuickPayConflict(
            "Only a notification the bank gave up on can be resent.",
            code="quickpay.notification_not_failed",
        )
    requeued = do_retry_dead_letter(str(event.event_id))
    do_audit(
        principal.principal_key,
        "payments.quickpay_notification_resent",
        object_type="quickpay_notification",
        object_id=str(public_id),
        data={"merchant": merchant_code, "type": row.event_type},
    )
    dispatch_after_commit([requeued.pk])
    return _views([row])[0]
