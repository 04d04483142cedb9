"""How each message type goes out whatever its request says, when it goes and who may stop it:
business hours on the hub calendar (weekends, King's Day, Christmas), the daily reminder cap,
opt-out, retries and their end, erasure scrubbing."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain import (
    MESSAGE_POLICIES,
    URGENCY_POLICIES,
    alerts_staff,
    gives_up,
    overruled,
    policy,
    retry_delay,
    scrub_personal_data,
    send_time,
)
from shared.clock import HubCalendar
from shared.contracts.notifications import MessageType, Urgency

AMS = ZoneInfo("Europe/Amsterdam")
CALENDAR = HubCalendar()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


# A message type of each kind, requested with the urgency its senders give it.
KINDS = {
    "transactional": ("welcome", "transactional"),
    "staff-alert": ("staff-alert", "staff-alert"),
    "reminder": ("questionnaire-reminder", "reminder"),
    "information": ("financing-deadline", "information"),
}


def when(kind, now, planned=None, cap=2, calendar=CALENDAR):
    decided = policy(*KINDS[kind])
    return send_time(decided, now, calendar, cap=cap, reminders_per_day=planned or {}).astimezone(AMS)


@pytest.mark.parametrize("kind", ["transactional", "staff-alert"])
def test_transactional_messages_and_staff_alerts_go_at_once_even_on_a_sunday_night(kind):
    sunday_night = local(2026, 3, 1, 23, 15)
    assert when(kind, sunday_night) == sunday_night


@pytest.mark.parametrize("kind", ["reminder", "information"])
def test_a_non_urgent_message_in_business_hours_goes_at_once(kind):
    tuesday_morning = local(2026, 3, 3, 10, 0)
    assert when(kind, tuesday_morning) == tuesday_morning


def test_a_reminder_requested_on_a_friday_evening_waits_for_monday_morning():
    assert when("reminder", local(2026, 3, 6, 17, 30)) == local(2026, 3, 9, 8, 30)
    assert when("information", local(2026, 3, 7, 12, 0)) == local(2026, 3, 9, 8, 30)


def test_every_message_type_and_urgency_has_a_policy():
    # v1's closed list, and the types only v2 requests may name (data, not a contract change).
    assert sorted(MESSAGE_POLICIES) == sorted([*typing.get_args(MessageType), "training-enrolment-promoted"])
    assert sorted(URGENCY_POLICIES) == sorted(typing.get_args(Urgency))


@pytest.mark.parametrize(("message_type", "timing", "essential", "capped"), [
    ("welcome", "at-once", True, False),
    ("intake-invitation", "at-once", True, False),
    ("training-enrolment-promoted", "at-once", True, False),
    ("staff-alert", "at-once", True, False),
    ("staff-escalation", "at-once", True, False),
    ("questionnaire-invitation", "business-hours", True, False),
    ("follow-up-invitation", "business-hours", True, False),
    ("questionnaire-reminder", "business-hours", False, True),
    ("follow-up-reminder", "business-hours", False, True),
    # One per participant, so not in the company's daily cap (docs/notifications.md).
    ("training-session-reminder", "business-hours", False, False),
    ("financing-deadline", "business-hours", False, False),
])
def test_the_message_type_decides_even_when_the_request_says_transactional(
    message_type, timing, essential, capped
):
    decided = policy(message_type, "transactional")
    assert (decided.timing, decided.essential, decided.capped) == (timing, essential, capped)


def test_an_urgency_can_only_make_a_message_stricter():
    assert policy("welcome", "reminder") == policy("questionnaire-reminder", "reminder")
    assert policy("questionnaire-invitation", "information").may_opt_out
    for message_type in MESSAGE_POLICIES:
        for urgency in URGENCY_POLICIES:
            decided, own = policy(message_type, urgency), MESSAGE_POLICIES[message_type]
            assert decided.goes_at_once <= own.goes_at_once and decided.essential <= own.essential
            assert decided.capped >= own.capped and decided.to_staff == own.to_staff


def test_an_urgency_looser_than_the_message_type_is_named_for_the_log():
    assert overruled("questionnaire-reminder", "transactional") == [
        "at once instead of in business hours", "without opt-out or unsubscribe link",
        "outside the daily reminder cap"]
    assert overruled("financing-deadline", "reminder") == []
    assert overruled("welcome", "transactional") == []


def test_a_reminder_requested_before_opening_waits_until_half_past_eight():
    assert when("reminder", local(2026, 3, 3, 7, 0)) == local(2026, 3, 3, 8, 30)


def test_a_reminder_skips_the_weekend_and_kings_day():
    # King's Day 2026 is Monday 27 April.
    assert when("reminder", local(2026, 4, 24, 18, 0)) == local(2026, 4, 28, 8, 30)


def test_a_reminder_skips_christmas_and_boxing_day():
    # 25 and 26 December 2026 are a Friday and a Saturday.
    assert when("reminder", local(2026, 12, 24, 17, 45)) == local(2026, 12, 28, 8, 30)


def test_a_hub_closing_day_is_skipped_too():
    calendar = HubCalendar(closing_days=frozenset({date(2026, 3, 10)}))
    assert when("reminder", local(2026, 3, 9, 20, 0), calendar=calendar) == local(2026, 3, 11, 8, 30)


def test_the_time_is_kept_in_utc_across_daylight_saving():
    moment = send_time(policy(*KINDS["reminder"]), datetime(2026, 3, 27, 20, 0, tzinfo=UTC), CALENDAR, cap=2,
                       reminders_per_day={})
    assert moment == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)  # Monday 08:30 in summer time


def test_a_reminder_beyond_the_daily_cap_moves_to_the_next_business_day():
    now = local(2026, 3, 6, 10, 0)  # a Friday
    assert when("reminder", now, {date(2026, 3, 6): 1}) == now
    assert when("reminder", now, {date(2026, 3, 6): 2}) == local(2026, 3, 9, 8, 30)
    full = {date(2026, 3, 6): 2, date(2026, 3, 9): 2}
    assert when("reminder", now, full) == local(2026, 3, 10, 8, 30)
    assert when("reminder", now, {date(2026, 3, 6): 3}, cap=3) == local(2026, 3, 9, 8, 30)


def test_the_cap_holds_only_reminders():
    now = local(2026, 3, 6, 10, 0)
    full = {date(2026, 3, 6): 5}
    assert when("information", now, full) == now
    assert when("transactional", now, full) == now


def test_the_cap_still_applies_with_business_hours_switched_off():
    calendar = HubCalendar(enabled=False)
    saturday = local(2026, 3, 7, 22, 0)
    assert when("reminder", saturday, calendar=calendar) == saturday
    assert when("reminder", saturday, {date(2026, 3, 7): 2}, calendar=calendar) == local(2026, 3, 8, 0, 0)


def test_only_reminders_and_information_can_be_opted_out_of():
    optional = sorted(t for t in MESSAGE_POLICIES if policy(t, "transactional").may_opt_out)
    assert optional == ["financing-deadline", "follow-up-reminder", "questionnaire-reminder",
                        "training-session-reminder"]


def test_retries_back_off_from_the_base_and_stay_capped():
    base, cap = timedelta(seconds=0.2), timedelta(seconds=5)
    delays = [retry_delay(n, base, cap) for n in range(1, 60)]
    assert delays[:3] == [base, base * 2, base * 4]
    assert delays == sorted(delays) and max(delays) == cap


def test_a_delivery_fails_after_the_last_attempt_or_at_once_when_hopeless():
    assert not gives_up(2, 3, permanent=False)
    assert gives_up(3, 3, permanent=False)
    assert gives_up(1, 3, permanent=True)


def test_failed_staff_messages_raise_no_further_alert():
    assert alerts_staff("questionnaire-reminder")
    assert not alerts_staff("staff-alert") and not alerts_staff("staff-escalation")


def test_erasure_removes_addresses_from_error_texts():
    text = "SMTPRecipientsRefused: 550 <anna.de.vries@example.nl> unknown; retry anna@b.nl"
    assert scrub_personal_data(text) == "SMTPRecipientsRefused: 550 <[erased]> unknown; retry [erased]"
    assert scrub_personal_data(None) is None
