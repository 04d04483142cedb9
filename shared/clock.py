"""The injectable clock and the hub calendar (business hours, Dutch public holidays, closing days).

Services never call `datetime.now()` themselves: they take a `Clock` from their settings, so a test
or a demo can set any moment. `HubCalendar` answers "is this business time" and "when is the next
business moment" in the hub's timezone (Europe/Amsterdam by default). `MONTHS` names the months
in the hub's languages, for dates written out to people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from shared.settings import Settings

# `holidays` lists Good Friday for NL, but it is not a general day off in the Netherlands (and the
# package has moved it between categories across versions, hence the exact pin).
NOT_A_DAY_OFF = frozenset({"Good Friday"})

# The month names of the languages people read the hub's mail and pages in, January first.
MONTHS: dict[str, tuple[str, ...]] = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved: for tests and demos."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


def clock_from(settings: Settings) -> Clock:
    if settings.clock_fixed_at is not None:
        moment = settings.clock_fixed_at
        return FixedClock(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return SystemClock()


@dataclass
class HubCalendar:
    """Business hours of a hub: weekdays between `day_start` and `day_end`, except holidays."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))
    day_start: time = time(8, 30)
    day_end: time = time(17, 30)
    closing_days: frozenset[date] = frozenset()
    enabled: bool = True
    country: str = "NL"

    @classmethod
    def from_settings(cls, settings: Settings) -> HubCalendar:
        return cls(
            timezone=ZoneInfo(settings.business_timezone),
            day_start=time.fromisoformat(settings.business_day_start),
            day_end=time.fromisoformat(settings.business_day_end),
            closing_days=frozenset(date.fromisoformat(d) for d in settings.hub_closing_days),
            enabled=settings.business_hours_enabled,
        )

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday or closing day on `day`, None on an ordinary day."""
        if day in self.closing_days:
            return "hub closing day"
        name = holidays.country_holidays(self.country, years=day.year, language="en_US").get(day)
        if not name or name in NOT_A_DAY_OFF:
            return None
        return str(name)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def is_business_time(self, moment: datetime) -> bool:
        if not self.enabled:
            return True
        local = moment.astimezone(self.timezone)
        return self.is_business_day(local.date()) and self.day_start <= local.time() < self.day_end

    def next_business_time(self, moment: datetime) -> datetime:
        """`moment` itself when it is business time, else the start of the next business day."""
        if self.is_business_time(moment):
            return moment
        local = moment.astimezone(self.timezone)
        day = local.date()
        if local.time() >= self.day_start:
            day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        start = datetime.combine(day, self.day_start, tzinfo=self.timezone)
        return start.astimezone(UTC)

    def add_business_days(self, day: date, count: int) -> date:
        """The business day `count` business days after `day`."""
        while count > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day
