"""Pure rules of notifications: the language of a message, when it goes out, how retries back off."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from shared.contracts.notifications import Urgency

Language = Literal["nl", "en"]
DEFAULT_LANGUAGE: Language = "nl"

# The first retry comes quickly (a mail server restart takes seconds); the cap keeps a long outage
# from leaving a message waiting for hours after the server is back.
RETRY_BASE = timedelta(seconds=1)
RETRY_CAP = timedelta(minutes=10)


def choose_language(preferred: str | None) -> Language:
    """English for a recipient who prefers it (`en`, `EN`, `en-GB`); Dutch otherwise."""
    if preferred and preferred.strip().lower().split("-")[0].split("_")[0] == "en":
        return "en"
    return DEFAULT_LANGUAGE


def send_now(urgency: Urgency) -> bool:
    """Whether a requested message may go out at once.

    Every urgency does in this slice: the welcome is transactional. Holding reminders until business
    hours is decided here later, with the hub calendar.
    """
    return True


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling from one second, capped."""
    exponent = max(0, attempts - 1)
    if exponent >= 20:  # 2**20 s is far beyond the cap; avoids huge intermediate numbers
        return RETRY_CAP
    return min(RETRY_BASE * 2**exponent, RETRY_CAP)
