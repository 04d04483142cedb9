"""The journey's named deadlines without Temporal: pausing keeps what each timer had left, resuming
counts it from the moment of resumption, a timer set while paused waits, and cancelling by prefix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workflows.models import JourneyState
from workflows.timers import cancel_timers, next_timer, pause, resume, set_timer, time_to_next

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def state() -> JourneyState:
    return JourneyState(company_id="c1", hub_id="nl-noord")


def test_pause_keeps_the_time_left_and_resume_counts_it_from_then():
    s = state()
    set_timer(s, "questionnaire-reminder-1", T + 7 * DAY, T)
    set_timer(s, "questionnaire-escalation", T + 21 * DAY, T)
    pause(s, T + 3 * DAY)
    assert next_timer(s) is None
    assert time_to_next(s, T + 3 * DAY) is None
    set_timer(s, "intake-alert", T + 10 * DAY, T + 3 * DAY)  # set while paused: waits too
    resume(s, T + 40 * DAY)
    assert s.timers == {
        "questionnaire-reminder-1": T + 44 * DAY,
        "questionnaire-escalation": T + 58 * DAY,
        "intake-alert": T + 47 * DAY,
    }
    assert next_timer(s) == ("questionnaire-reminder-1", T + 44 * DAY)
    assert time_to_next(s, T + 43 * DAY) == DAY


def test_an_overdue_timer_is_due_at_once_and_ties_fire_by_name():
    s = state()
    set_timer(s, "b", T, T)
    set_timer(s, "a", T, T)
    assert next_timer(s) == ("a", T)
    assert time_to_next(s, T + DAY) == timedelta(0)


def test_cancelling_by_prefix_reaches_running_and_paused_timers():
    s = state()
    for name in ("follow-up-reminder-1", "follow-up-window", "end"):
        set_timer(s, name, T + DAY, T)
    cancel_timers(s, "follow-up-")
    assert list(s.timers) == ["end"]
    pause(s, T)
    cancel_timers(s, "")
    resume(s, T)
    assert s.timers == {}
