"""Pure rules of notifications: language, when a message goes out (business hours and the daily
reminder cap), who may opt out of what, how retries back off and when they stop.

No I/O here: the hub calendar is handed in (its holidays are library data), and so are the counts
of reminders a company already has on each day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Literal

from shared.clock import HubCalendar
from shared.contracts.notifications import Urgency

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")
DEFAULT_LANGUAGE: Language = "nl"

# The first retry comes quickly (a mail server restart takes seconds); the cap keeps a long outage
# from leaving a message waiting for hours after the server is back.
RETRY_BASE = timedelta(seconds=1)
RETRY_CAP = timedelta(minutes=10)

# Staff alerts about a failed delivery are not themselves alerted on when they fail: no loops.
STAFF_MESSAGE_TYPES = frozenset({"staff-alert", "staff-escalation"})

_EMAIL = re.compile(r"[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+")


def choose_language(preferred: str | None) -> Language:
    """English for a recipient who prefers it (`en`, `EN`, `en-GB`); Dutch otherwise."""
    if preferred and preferred.strip().lower().split("-")[0].split("_")[0] == "en":
        return "en"
    return DEFAULT_LANGUAGE


def goes_at_once(urgency: Urgency | str) -> bool:
    """Transactional messages and staff alerts go at once; the rest waits for business hours."""
    return urgency in ("transactional", "staff-alert")


def may_opt_out(urgency: Urgency | str) -> bool:
    """Reminders and information are non-essential: a contact may opt out of them."""
    return urgency in ("reminder", "information")


def counts_to_cap(urgency: Urgency | str) -> bool:
    """Only reminders count to (and are held by) the daily reminder cap."""
    return urgency == "reminder"


def send_time(
    urgency: Urgency,
    now: datetime,
    calendar: HubCalendar,
    *,
    cap: int,
    reminders_per_day: Mapping[date, int],
) -> datetime:
    """When a message requested at `now` goes out.

    At once for urgent messages; otherwise `now` if it is business time, else the next business
    morning. A reminder for a day on which the company already has `cap` reminders moves to the
    next business day (and on, while those are full too). `reminders_per_day` counts a company's
    reminders by their local day in the hub's timezone.
    """
    if goes_at_once(urgency):
        return now
    moment = calendar.next_business_time(now)
    if not counts_to_cap(urgency):
        return moment
    for _ in range(3660):  # a bound, not a limit anyone meets: ten years of full days
        day = local_day(moment, calendar)
        if reminders_per_day.get(day, 0) < cap:
            return moment
        opening = calendar.day_start if calendar.enabled else time(0)
        moment = calendar.next_business_time(
            datetime.combine(day + timedelta(days=1), opening, tzinfo=calendar.timezone)
        )
    raise ValueError("no day with room for another reminder in ten years")


def local_day(moment: datetime, calendar: HubCalendar) -> date:
    """The hub's calendar day of `moment`."""
    return moment.astimezone(calendar.timezone).date()


def retry_delay(attempts: int, base: timedelta = RETRY_BASE, cap: timedelta = RETRY_CAP) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling from `base`, capped."""
    exponent = max(0, attempts - 1)
    if exponent >= 40:  # far beyond any cap; avoids huge intermediate numbers
        return cap
    return min(base * 2**exponent, cap)


def gives_up(attempts: int, max_attempts: int, *, permanent: bool) -> bool:
    """Whether a delivery is failed after its `attempts`-th failed attempt."""
    return permanent or attempts >= max_attempts


def alerts_staff(message_type: str) -> bool:
    """A failed company message alerts staff; a failed staff message does not (no loops)."""
    return message_type not in STAFF_MESSAGE_TYPES


def scrub_personal_data(text: str | None) -> str | None:
    """`text` with e-mail addresses replaced, for error messages kept after an erasure."""
    if text is None:
        return None
    return _EMAIL.sub("[erased]", text)
