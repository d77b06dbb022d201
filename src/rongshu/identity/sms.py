"""SMS gateway port and its simulator.

:class:`SmsGateway` is the port a real provider adapter implements (Aliyun SMS, Tencent Cloud
SMS …). :class:`SimulatedSmsGateway` behaves like one: it refuses invalid numbers, enforces the
per-number frequency limits Chinese providers apply (1 per minute, 5 per hour, 10 per day by
default), fails a configurable share of sends with a provider error, and delivers after a random
delay: a message becomes visible in the inbox (:func:`read_inbox`) only at its ``deliver_at``.
The gateway used is ``settings.RONGSHU_SMS_GATEWAY`` (a dotted path; the simulator by default).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from rongshu.identity.models import SmsMessage
from rongshu.kernel import clock

MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class SmsError(Exception):
    """The gateway did not accept the message."""

    retryable = True


class SmsRateLimited(SmsError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SmsRejected(SmsError):
    retryable = False


@dataclass(frozen=True)
class SmsReceipt:
    message_id: str
    accepted_at: dt.datetime


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> SmsReceipt:
        """Hand a message to the provider; raises :class:`SmsError` when it is not accepted."""
        ...


@dataclass(frozen=True)
class SimulatorSettings:
    per_minute: int = 1
    per_hour: int = 5
    per_day: int = 10
    failure_rate: float = 0.02
    min_delay_ms: int = 200
    max_delay_ms: int = 2500
    seed: int | None = None


def simulator_settings() -> SimulatorSettings:
    return SimulatorSettings(**getattr(settings, "RONGSHU_SMS_SIMULATOR", {}))


class SimulatedSmsGateway:
    """A provider-like simulator writing to the ``SmsMessage`` inbox table."""

    def __init__(self, config: SimulatorSettings | None = None) -> None:
        self.config = config or simulator_settings()
        self.random = random.Random(self.config.seed)  # noqa: S311 - simulation, not security

    def _check_rate(self, phone: str, now: dt.datetime) -> None:
        sent = SmsMessage.objects.filter(phone=phone).exclude(state=SmsMessage.FAILED)
        for limit, window in (
            (self.config.per_minute, dt.timedelta(minutes=1)),
            (self.config.per_hour, dt.timedelta(hours=1)),
            (self.config.per_day, dt.timedelta(days=1)),
        ):
            recent = list(
                sent.filter(accepted_at__gt=now - window)
                .order_by("accepted_at")
                .values_list("accepted_at", flat=True)[:limit]
            )
            if len(recent) >= limit:
                retry_after = int((recent[0] + window - now).total_seconds()) + 1
                raise SmsRateLimited("the provider's frequency limit for this number", retry_after)

    def send(self, phone: str, text: str) -> SmsReceipt:
        if not MAINLAND_MOBILE.match(phone):
            raise SmsRejected("invalid mobile number")
        now = clock.now()
        self._check_rate(phone, now)
        if self.random.random() < self.config.failure_rate:
            SmsMessage.objects.create(
                phone=phone,
                text=text,
                state=SmsMessage.FAILED,
                accepted_at=now,
                deliver_at=now,
                error="isv.BUSINESS_LIMIT_CONTROL: provider busy",
            )
            raise SmsError("the provider is busy; try again")
        delay = self.random.randint(self.config.min_delay_ms, self.config.max_delay_ms)
        message = SmsMessage.objects.create(
            phone=phone,
            text=text,
            state=SmsMessage.DELIVERED,
            accepted_at=now,
            deliver_at=now + dt.timedelta(milliseconds=delay),
        )
        return SmsReceipt(message_id=str(message.message_id), accepted_at=now)


def get_gateway() -> SmsGateway:
    """The configured gateway (built per send, so settings changes take effect at once)."""
    path = getattr(settings, "RONGSHU_SMS_GATEWAY", "rongshu.identity.sms.SimulatedSmsGateway")
    gateway: SmsGateway = import_string(path)()
    return gateway


def read_inbox(phone: str, *, limit: int = 20) -> list[SmsMessage]:
    """Messages a handset with ``phone`` has received by now (newest first)."""
    return list(
        SmsMessage.objects.filter(
            phone=phone, state=SmsMessage.DELIVERED, deliver_at__lte=clock.now()
        ).order_by("-deliver_at")[:limit]
    )


OTP_PATTERN = re.compile(r"(\d{6})")


def latest_code(phone: str) -> str | None:
    """The newest six-digit code a handset has received (demo and tests)."""
    for message in read_inbox(phone, limit=5):
        match = OTP_PATTERN.search(message.text)
        if match:
            return match.group(1)
    return None
