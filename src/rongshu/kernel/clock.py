"""Wall clock and the bank's business date.

The wall clock (:func:`now`) is aware UTC. The **business date** is separate: it is the date the
bank's books are on, moved only by end-of-day (``rongshu eod``), so batches can be replayed and
tests move time explicitly (Fineract's business date). Working days come from the maintained
``chinese-calendar`` library (official holidays and adjusted working weekends); for a year it
does not know yet, weekends are the only holidays and a warning is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

_frozen_now: dt.datetime | None = None


def now() -> dt.datetime:
    """The current aware UTC time (frozen inside :func:`frozen_time`)."""
    return _frozen_now if _frozen_now is not None else timezone.now()


@contextmanager
def frozen_time(at: dt.datetime) -> Iterator[None]:
    """Freeze :func:`now` for tests and replays."""
    global _frozen_now
    if at.tzinfo is None:
        raise ValueError("frozen_time needs an aware datetime")
    previous, _frozen_now = _frozen_now, at
    try:
        yield
    finally:
        _frozen_now = previous


def bank_zone() -> ZoneInfo:
    return ZoneInfo(settings.BANK_TIME_ZONE)


def local_today() -> dt.date:
    """Today's calendar date in the bank's time zone (not the business date)."""
    return now().astimezone(bank_zone()).date()


_warned_years: set[int] = set()


def is_working_day(day: dt.date) -> bool:
    """A working day in mainland China (holidays and adjusted weekends included)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning(
                "holiday calendar has no data for %s; treating only weekends as holidays",
                day.year,
            )
        return day.weekday() < 5


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after ``day``."""
    candidate = day + dt.timedelta(days=1)
    while not is_working_day(candidate):
        candidate += dt.timedelta(days=1)
    return candidate


def add_working_days(day: dt.date, count: int) -> dt.date:
    if count < 0:
        raise ValueError("count must be non-negative")
    for _ in range(count):
        day = next_working_day(day)
    return day


def get_business_date() -> dt.date:
    """The bank's current business date (created on first use from the local date)."""
    from rongshu.kernel.models import BusinessDate

    row = BusinessDate.objects.filter(pk=1).first()
    if row is None:
        row, _ = BusinessDate.objects.get_or_create(pk=1, defaults={"date": local_today()})
    return row.date


def do_set_business_date(day: dt.date) -> None:
    """Set the business date (set-up and tests; production moves it only through EOD)."""
    from rongshu.kernel.models import BusinessDate

    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})
