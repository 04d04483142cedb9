"""Training's pure rules: when enrolment closes and when a session's reminder goes (hub business
days, over weekends and Dutch holidays), who gets a seat, when a need is delivered and what it is
worth, and which courses are proposed for the weakest DMA dimensions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.training import domain
from shared.clock import HubCalendar
from shared.settings import Settings

AMS = ZoneInfo("Europe/Amsterdam")
calendar = HubCalendar.from_settings(Settings())


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


@pytest.mark.parametrize(("starts", "cutoff"), [
    pytest.param((2026, 3, 12, 10, 0), (2026, 3, 10, 8, 30), id="thursday-closes-tuesday-morning"),
    pytest.param((2026, 3, 9, 10, 0), (2026, 3, 5, 8, 30), id="monday-closes-over-the-weekend"),
    pytest.param((2026, 4, 28, 9, 0), (2026, 4, 23, 8, 30), id="after-kings-day-and-a-weekend"),
    pytest.param((2026, 12, 28, 9, 0), (2026, 12, 23, 8, 30), id="after-christmas"),
])
def test_enrolment_closes_two_hub_business_days_before_the_session(starts, cutoff):
    assert domain.enrolment_cutoff(calendar, local(*starts), 2) == local(*cutoff)


def test_a_cut_off_of_zero_days_closes_when_the_session_starts():
    assert domain.enrolment_cutoff(calendar, local(2026, 3, 12, 10, 0), 0) == local(2026, 3, 12, 10, 0)


@pytest.mark.parametrize(("starts", "reminder"), [
    pytest.param((2026, 3, 12, 10, 0), (2026, 3, 11, 8, 30), id="the-business-day-before"),
    pytest.param((2026, 3, 9, 10, 0), (2026, 3, 6, 8, 30), id="monday-reminded-on-friday"),
    pytest.param((2026, 4, 28, 9, 0), (2026, 4, 24, 8, 30), id="over-kings-day-and-the-weekend"),
    pytest.param((2026, 5, 15, 9, 0), (2026, 5, 13, 8, 30), id="over-ascension-day"),
])
def test_the_reminder_goes_one_hub_business_day_before_in_business_hours(starts, reminder):
    moment = domain.reminder_at(calendar, local(*starts), 1)
    assert moment == local(*reminder)
    assert calendar.is_business_time(moment)


def test_a_late_enrolment_is_reminded_at_once_and_a_started_session_not_at_all():
    starts = local(2026, 3, 12, 10, 0)
    late = local(2026, 3, 11, 15, 0)
    assert domain.reminder_moment(calendar, starts, 1, late) == late
    assert domain.reminder_moment(calendar, starts, 1, starts) is None


def test_enrolment_closes_at_the_cut_off_and_at_the_start():
    starts, cutoff = local(2026, 3, 12, 10, 0), local(2026, 3, 10, 8, 30)
    assert domain.enrolment_problem(local(2026, 3, 10, 8, 29), starts, cutoff) is None
    assert "cut-off" in (domain.enrolment_problem(cutoff, starts, cutoff) or "")
    assert "started" in (domain.enrolment_problem(starts, starts, cutoff) or "")


def test_a_seat_is_taken_while_one_is_left_and_nobody_waits():
    assert domain.seat_for(confirmed=1, capacity=2, waiting=0) == "confirmed"
    assert domain.seat_for(confirmed=2, capacity=2, waiting=0) == "waitlisted"
    # A seat that frees goes to the first in line, not to a newcomer.
    assert domain.seat_for(confirmed=1, capacity=2, waiting=1) == "waitlisted"
    assert domain.capacity_problem(3, 4) == "capacity 3 is below the 4 participants already confirmed"
    assert domain.capacity_problem(4, 4) is None


def test_a_need_is_delivered_after_its_last_session_with_an_attendee_and_worth_each_attendee():
    ends = [local(2026, 3, 12, 17, 0), local(2026, 3, 19, 17, 0)]
    assert not domain.need_delivered(ends, attendees=2, now=local(2026, 3, 19, 16, 59))
    assert domain.need_delivered(ends, attendees=2, now=local(2026, 3, 19, 17, 0))
    assert not domain.need_delivered(ends, attendees=0, now=local(2026, 3, 20, 9, 0))
    assert domain.need_value(Decimal("412.50"), 3) == Decimal("1237.50")


@dataclass
class Course:
    id: str
    dimensions: list[str]
    title_en: str = "A course"
    extra: list[str] = field(default_factory=list)


def test_courses_are_proposed_for_the_weakest_dimensions_each_once_with_the_reason():
    scores = {"digital_business_strategy": 40.0, "digital_readiness": 22.5,
              "human_centric_digitalisation": 60.0, "data_management": 12.0, "automation_ai": 30.0,
              "green_digitalisation": 70.0}
    courses = [Course("data", ["data_management"]), Course("both", ["data_management", "digital_readiness"]),
               Course("ready", ["digital_readiness"]), Course("green", ["green_digitalisation"])]
    chosen = domain.recommend(scores, courses, weakest_count=2, per_dimension=2)
    assert [(r.course_id, r.dimension) for r in chosen] == [
        ("data", "data_management"), ("both", "data_management"), ("ready", "digital_readiness")]
    assert "data management scored 12 of 100" in chosen[0].reason
