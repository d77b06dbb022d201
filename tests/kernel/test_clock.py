from __future__ import annotations

import datetime as dt

import pytest

from rongshu.kernel import clock


def test_working_days_follow_the_official_calendar() -> None:
    assert not clock.is_working_day(dt.date(2026, 10, 1))  # National Day
    assert clock.is_working_day(dt.date(2026, 10, 12))  # a Monday after the holiday
    assert not clock.is_working_day(dt.date(2026, 11, 28))  # Saturday
    # An adjusted working Sunday (调休).
    assert clock.is_working_day(dt.date(2026, 1, 4))


def test_year_without_data_falls_back_to_weekends(caplog: pytest.LogCaptureFixture) -> None:
    assert clock.is_working_day(dt.date(2099, 6, 1))  # a Monday
    assert not clock.is_working_day(dt.date(2099, 6, 6))  # a Saturday
    assert "no data for 2099" in caplog.text


def test_next_and_add_working_days() -> None:
    assert clock.next_working_day(dt.date(2026, 9, 30)) == dt.date(2026, 10, 8)
    assert clock.is_working_day(dt.date(2026, 10, 10))  # an adjusted working Saturday
    assert clock.add_working_days(dt.date(2026, 11, 27), 1) == dt.date(2026, 11, 30)
    assert clock.add_working_days(dt.date(2026, 11, 27), 0) == dt.date(2026, 11, 27)
    with pytest.raises(ValueError):
        clock.add_working_days(dt.date(2026, 11, 27), -1)


def test_frozen_time_and_local_today() -> None:
    at = dt.datetime(2026, 11, 29, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 30th in Shanghai
    with clock.frozen_time(at):
        assert clock.now() == at
        assert clock.local_today() == dt.date(2026, 11, 30)
    assert clock.now() != at
    with pytest.raises(ValueError), clock.frozen_time(dt.datetime(2026, 1, 1)):  # noqa: DTZ001
        pass


@pytest.mark.django_db
def test_business_date_is_separate_from_the_wall_clock() -> None:
    with clock.frozen_time(dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)):
        assert clock.get_business_date() == dt.date(2026, 11, 29)
    clock.do_set_business_date(dt.date(2030, 1, 2))
    assert clock.get_business_date() == dt.date(2030, 1, 2)
