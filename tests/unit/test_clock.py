"""The hub calendar: business hours in Europe/Amsterdam, Dutch public holidays, hub closing days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.clock import FixedClock, HubCalendar, clock_from
from shared.settings import Settings

AMS = ZoneInfo("Europe/Amsterdam")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


calendar = HubCalendar()


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 4, 27), "King's Day"),     # a Monday in 2026
        (date(2025, 4, 26), "King's Day"),     # 27 April 2025 was a Sunday: the 26th instead
        (date(2026, 4, 6), "Easter Monday"),
        (date(2026, 5, 14), "Ascension Day"),
        (date(2026, 5, 25), "Pentecost Monday"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Second Day of Christmas"),
        (date(2026, 1, 1), "New Year's Day"),
        (date(2025, 5, 5), "Liberation Day"),  # a day off in a lustrum year
    ],
)
def test_dutch_public_holidays_are_known(day, name):
    assert calendar.holiday_name(day) == name
    assert not calendar.is_business_day(day)


def test_good_friday_and_liberation_day_outside_a_lustrum_are_working_days():
    assert calendar.is_business_day(date(2026, 4, 3))  # Good Friday 2026
    assert calendar.is_business_day(date(2026, 5, 5))  # Liberation Day, not a lustrum year


def test_business_time_is_weekdays_half_past_eight_to_half_past_five():
    assert calendar.is_business_time(local(2026, 11, 30, 8, 30))
    assert not calendar.is_business_time(local(2026, 11, 30, 8, 29))
    assert not calendar.is_business_time(local(2026, 11, 30, 17, 30))
    assert not calendar.is_business_time(local(2026, 11, 28, 10, 0))  # Saturday


def test_the_next_business_moment_skips_the_weekend():
    friday_evening = local(2026, 11, 27, 18, 0)
    assert calendar.next_business_time(friday_evening) == local(2026, 11, 30, 8, 30).astimezone(UTC)


def test_the_next_business_moment_skips_christmas_and_boxing_day():
    christmas_eve_evening = local(2026, 12, 24, 19, 0)
    assert calendar.next_business_time(christmas_eve_evening) == local(2026, 12, 28, 8, 30).astimezone(UTC)


def test_a_hub_closing_day_is_not_a_business_day():
    closed = HubCalendar(closing_days=frozenset({date(2026, 12, 31)}))
    assert not closed.is_business_day(date(2026, 12, 31))
    assert closed.next_business_time(local(2026, 12, 31, 10, 0)) == local(2027, 1, 4, 8, 30).astimezone(UTC)


def test_with_business_hours_off_any_moment_is_business_time():
    assert HubCalendar(enabled=False).is_business_time(local(2026, 12, 25, 3, 0))


def test_business_days_are_counted_over_holidays():
    # Friday 24 April 2026 + 2 business days: Monday 27 April is King's Day, so Wednesday 29th.
    assert calendar.add_business_days(date(2026, 4, 24), 2) == date(2026, 4, 29)


def test_the_clock_can_be_fixed_from_settings():
    clock = clock_from(Settings(clock_fixed_at=datetime(2026, 4, 27, 9, 0, tzinfo=UTC)))
    assert isinstance(clock, FixedClock)
    assert clock.now() == datetime(2026, 4, 27, 9, 0, tzinfo=UTC)
