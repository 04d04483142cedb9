"""Pure rules of notifications: language, how each message type goes out (`MESSAGE_POLICIES`: at
once or in business hours, essential or open to opt-out, counted in the daily reminder cap or not),
when it goes (business hours and the cap), how retries back off and when they stop; the keyed
digest that ties an opt-out to a person's address.

No I/O here: the hub calendar is handed in (its holidays are library data), and so are the counts
of reminders a company already has on each day.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from shared.clock import HubCalendar
from shared.contracts.notifications import RecipientRef, Urgency

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")
DEFAULT_LANGUAGE: Language = "nl"

# The first retry comes quickly (a mail server restart takes seconds); the cap keeps a long outage
# from leaving a message waiting for hours after the server is back.
RETRY_BASE = timedelta(seconds=1)
RETRY_CAP = timedelta(minutes=10)

_EMAIL = re.compile(r"[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+")


def choose_language(preferred: str | None) -> Language:
    """English for a recipient who prefers it (`en`, `EN`, `en-GB`); Dutch otherwise."""
    if preferred and preferred.strip().lower().split("-")[0].split("_")[0] == "en":
        return "en"
    return DEFAULT_LANGUAGE


Timing = Literal["at-once", "business-hours"]


@dataclass(frozen=True)
class MessagePolicy:
    """How a message goes out: at once or in business hours; whether it is essential (a contact
    cannot opt out of it, and it carries no unsubscribe link) or not; whether it counts to the
    company's daily reminder cap; whether it goes to staff."""

    timing: Timing
    essential: bool
    capped: bool
    to_staff: bool = False

    @property
    def goes_at_once(self) -> bool:
        return self.timing == "at-once"

    @property
    def may_opt_out(self) -> bool:
        return not self.essential

    def stricter(self, other: MessagePolicy) -> MessagePolicy:
        """The stricter of the two on each point (who it goes to stays this one's)."""
        return MessagePolicy(
            timing="at-once" if self.goes_at_once and other.goes_at_once else "business-hours",
            essential=self.essential and other.essential,
            capped=self.capped or other.capped,
            to_staff=self.to_staff,
        )


CONFIRMATION = MessagePolicy("at-once", essential=True, capped=False)
STAFF = MessagePolicy("at-once", essential=True, capped=False, to_staff=True)
# The programme's own steps: the company needs them to take part, so no opt-out, but they are not
# urgent enough to arrive on a Sunday night.
PROGRAMME_STEP = MessagePolicy("business-hours", essential=True, capped=False)
REMINDER = MessagePolicy("business-hours", essential=False, capped=True)
INFORMATION = MessagePolicy("business-hours", essential=False, capped=False)
# A reminder to one participant of a session: each participant of a company gets theirs, so it is
# not counted in the company's daily cap (which would push a third participant's past the session).
PARTICIPANT_REMINDER = MessagePolicy("business-hours", essential=False, capped=False)

# The message type decides how it goes out (docs/notifications.md has this table).
MESSAGE_POLICIES: dict[str, MessagePolicy] = {
    "welcome": CONFIRMATION,
    "intake-invitation": CONFIRMATION,  # confirms an interview staff scheduled with the company
    "questionnaire-invitation": PROGRAMME_STEP,
    "follow-up-invitation": PROGRAMME_STEP,
    "questionnaire-reminder": REMINDER,
    "follow-up-reminder": REMINDER,
    "training-session-reminder": PARTICIPANT_REMINDER,
    # A participant now has a seat they waited for (a v2 message type): a confirmation, at once.
    "training-enrolment-promoted": CONFIRMATION,
    "financing-deadline": INFORMATION,
    "staff-alert": STAFF,
    "staff-escalation": STAFF,
}
# What a request's urgency asks for; it can only make its message type's policy stricter.
URGENCY_POLICIES: dict[str, MessagePolicy] = {
    "transactional": CONFIRMATION,
    "staff-alert": CONFIRMATION,
    "reminder": REMINDER,
    "information": INFORMATION,
}
CAPPED_MESSAGE_TYPES = frozenset(t for t, p in MESSAGE_POLICIES.items() if p.capped)
CAPPED_URGENCIES = frozenset(u for u, p in URGENCY_POLICIES.items() if p.capped)


def policy(message_type: str, urgency: Urgency | str) -> MessagePolicy:
    """How a message of `message_type` requested with `urgency` goes out: the type's policy, made
    stricter where the urgency asks for more (later, opt-out, the cap), never looser."""
    return MESSAGE_POLICIES[message_type].stricter(URGENCY_POLICIES[urgency])


def overruled(message_type: str, urgency: Urgency | str) -> list[str]:
    """How the request's urgency would send its message more loosely than its type allows, in words
    (to log: the type decides)."""
    asked, allowed = URGENCY_POLICIES[urgency], MESSAGE_POLICIES[message_type]
    found = []
    if asked.goes_at_once and not allowed.goes_at_once:
        found.append("at once instead of in business hours")
    if asked.essential and not allowed.essential:
        found.append("without opt-out or unsubscribe link")
    if allowed.capped and not asked.capped:
        found.append("outside the daily reminder cap")
    return found


def send_time(
    policy: MessagePolicy,
    now: datetime,
    calendar: HubCalendar,
    *,
    cap: int,
    reminders_per_day: Mapping[date, int],
) -> datetime:
    """When a message requested at `now` goes out.

    At once for a message that goes at once; otherwise `now` if it is business time, else the next
    business morning. A capped message (a reminder) for a day on which the company already has
    `cap` reminders moves to the next business day (and on, while those are full too).
    `reminders_per_day` counts a company's reminders by their local day in the hub's timezone.
    """
    if policy.goes_at_once:
        return now
    moment = calendar.next_business_time(now)
    if not policy.capped:
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
    return not MESSAGE_POLICIES[message_type].to_staff


def alert_recipients(staff_ids: list[str], region: str | None, hub_id: str) -> list[RecipientRef]:
    """Who is alerted to a failed delivery: the staff accounts of the settings when there are any,
    else the console's staff of the company's region (its advisor, else an administrator), else the
    hub's administrators. Never no one: a failure always reaches a person."""
    if staff_ids:
        return [RecipientRef(service="console", kind="advisor", id=staff_id) for staff_id in staff_ids]
    if region:
        return [RecipientRef(service="console", kind="region-staff", id=region)]
    return [RecipientRef(service="console", kind="administrators", id=hub_id)]


def scrub_personal_data(text: str | None) -> str | None:
    """`text` with e-mail addresses replaced, for error messages kept after an erasure."""
    if text is None:
        return None
    return _EMAIL.sub("[erased]", text)


def address_digest(key: str, email: str) -> str:
    """The keyed digest of an e-mail address an opt-out keeps instead of the address: hex
    HMAC-SHA256 with `key` (the hub's signing key) over the address trimmed and in lower case, so
    `Anna@Example.nl` is the same person as `anna@example.nl`. Without the key no one can tell
    whose address it is, not even by trying likely addresses."""
    normalised = email.strip().lower()
    return hmac.new(key.encode(), normalised.encode(), hashlib.sha256).hexdigest()
