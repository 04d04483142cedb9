"""Training's pure rules, without I/O: the catalogue's vocabularies (DMA dimensions, delivery
partners, formats), moments given in the hub's local time, the enrolment cut-off and the reminder
moment on the hub calendar, where a new enrolment goes (a seat or the waitlist), when a training
need is delivered and what it is worth, and which courses a company's weakest dimensions call for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol, get_args
from zoneinfo import ZoneInfo

from shared.clock import HubCalendar
from shared.contracts.intake import DimensionScores

Language = Literal["nl", "en"]
Format = Literal["on_site", "online", "in_company"]
CourseStatus = Literal["active", "retired"]
EnrolmentStatus = Literal["confirmed", "waitlisted", "cancelled"]
Attendance = Literal["attended", "absent"]
NeedStatus = Literal["open", "completed", "cancelled"]

# Intake's six DMA dimension keys, as `assessment-completed` carries them.
DIMENSIONS: tuple[str, ...] = tuple(DimensionScores.model_fields)
# The regional training and knowledge partners of the hub (DOMAIN.md), and the hub itself.
PARTNERS: tuple[str, ...] = (
    "edih-noord",
    "hanze",
    "nhl-stenden",
    "rug",
    "drenthe-college",
    "noorderpoort",
    "alfa-college",
    "friesland-college",
    "region-of-smart-factories",
    "5groningen",
    "technologies-added",
    "innovatiecluster-drachten",
)
LANGUAGES: tuple[Language, ...] = get_args(Language)
# The journey's end stages that take a company out of the programme: it enrols no more, and its
# open enrolments and needs are cancelled.
JOURNEY_EXITS: frozenset[str] = frozenset({"withdrawn", "not_eligible", "referred_out", "closed"})


def in_utc(moment: datetime, timezone: ZoneInfo) -> datetime:
    """A moment given by a client in UTC: a naive one is the hub's local time (Europe/Amsterdam)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone)
    return moment.astimezone(UTC)


def business_days_before(calendar: HubCalendar, day: date, count: int) -> date:
    """The business day `count` business days before `day` (`day` itself for 0)."""
    while count > 0:
        day -= timedelta(days=1)
        if calendar.is_business_day(day):
            count -= 1
    return day


def enrolment_cutoff(calendar: HubCalendar, starts_at: datetime, business_days: int) -> datetime:
    """When enrolment for a session starting at `starts_at` closes: `business_days` hub business
    days before its day, at the start of business hours (so 2 closes a Thursday session at the start
    of Tuesday's business hours: Tuesday and Wednesday stay for the hub to prepare). With 0 it
    closes when the session starts."""
    if business_days == 0:
        return starts_at
    local_day = starts_at.astimezone(calendar.timezone).date()
    day = business_days_before(calendar, local_day, business_days)
    return datetime.combine(day, calendar.day_start, tzinfo=calendar.timezone).astimezone(UTC)


def reminder_at(calendar: HubCalendar, starts_at: datetime, business_days: int) -> datetime:
    """When a participant is reminded of a session starting at `starts_at`: the start of business
    hours `business_days` hub business days before the session's day (a Monday session on Friday,
    a session after a holiday on the business day before the holiday)."""
    local_day = starts_at.astimezone(calendar.timezone).date()
    day = business_days_before(calendar, local_day, business_days)
    return datetime.combine(day, calendar.day_start, tzinfo=calendar.timezone).astimezone(UTC)


def reminder_moment(
    calendar: HubCalendar, starts_at: datetime, business_days: int, now: datetime
) -> datetime | None:
    """The `not_before` of a reminder asked for now: the reminder moment, now when that has passed
    (a late enrolment is still reminded), None when the session has started (nothing to remind)."""
    if now >= starts_at:
        return None
    return max(reminder_at(calendar, starts_at, business_days), now)


def seat_for(confirmed: int, capacity: int, waiting: int) -> EnrolmentStatus:
    """A new enrolment takes a seat while one is left and nobody waits, else it waits in line."""
    return "confirmed" if confirmed < capacity and waiting == 0 else "waitlisted"


def capacity_problem(capacity: int, confirmed: int) -> str | None:
    """Why a session cannot take `capacity` seats: fewer than the participants confirmed."""
    if capacity < confirmed:
        return f"capacity {capacity} is below the {confirmed} participants already confirmed"
    return None


def enrolment_problem(now: datetime, starts_at: datetime, cutoff: datetime) -> str | None:
    """Why a session no longer takes enrolments (or cancellations) at `now`."""
    if now >= starts_at:
        return f"the session started at {starts_at.isoformat()}"
    if now >= cutoff:
        return f"enrolment closed at {cutoff.isoformat()} (the cut-off before the session)"
    return None


def need_delivered(session_ends: Sequence[datetime], attendees: int, now: datetime) -> bool:
    """A training need is delivered when the last session of its course the company took part in has
    ended and at least one of its participants attended."""
    return attendees > 0 and bool(session_ends) and max(session_ends) <= now


def need_value(cost_per_participant: Decimal, attendees: int) -> Decimal:
    """What a delivered training need is worth: the course's cost per participant for everyone of
    the company who attended."""
    return (cost_per_participant * attendees).quantize(Decimal("0.01"))


class CourseLike(Protocol):
    id: str
    dimensions: list[str]
    title_en: str


@dataclass(frozen=True)
class Recommendation:
    course_id: str
    dimension: str
    score: float
    reason: str


def weakest(scores: dict[str, float], count: int) -> list[tuple[str, float]]:
    """The `count` lowest-scoring dimensions, lowest first (ties in the DMA's order)."""
    ranked = sorted(
        ((d, scores[d]) for d in DIMENSIONS if d in scores),
        key=lambda pair: (pair[1], DIMENSIONS.index(pair[0])),
    )
    return ranked[:count]


def recommend(
    scores: dict[str, float], courses: Iterable[CourseLike], *, weakest_count: int, per_dimension: int
) -> list[Recommendation]:
    """Active courses that improve the company's weakest dimensions, each with the reason; a course
    is proposed once, for the weakest dimension it improves."""
    courses = list(courses)
    chosen: list[Recommendation] = []
    taken: set[str] = set()
    for dimension, score in weakest(scores, weakest_count):
        fitting = [c for c in courses if dimension in c.dimensions and c.id not in taken]
        for course in fitting[:per_dimension]:
            taken.add(course.id)
            reason = (
                f"{dimension.replace('_', ' ')} scored {score:g} of 100, one of the company's "
                f"weakest dimensions; {course.title_en!r} improves it"
            )
            chosen.append(Recommendation(course.id, dimension, score, reason))
    return chosen
