"""Intake's pure rules, without I/O: identifier and input formats (KvK, VAT, NACE, e-mail,
website, foundation year), the moment of an interview given in local time, and the primary contact.
The cohort rules live in `cohort`, DMA scoring in `dma`, the plan proposal in `plan`.

Each check returns the normalised value or raises ValueError with a sentence a user can act on,
so the HTTP models can use them as validators and the messages reach the caller as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol, TypeVar, get_args
from zoneinfo import ZoneInfo

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.nl import btw

from services.intake import cohort
from shared.contracts.intake import Region

Language = Literal["nl", "en"]
SizeClass = Literal["1-9", "10-49", "50-249", "250+"]

REGIONS: tuple[Region, ...] = get_args(Region)
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "nl"

# `\d` would also take other scripts' digits; KvK numbers are ASCII.
_KVK = re.compile(r"[0-9]{8}")
# A section letter and/or a division, then optional group and class digits: NACE as "C", "C25",
# "25.62", "C25.62", and the Dutch SBI spelling "2562" or "25621".
_NACE = re.compile(r"[A-Z]|(?:[A-Z])?[0-9]{2}(?:\.?[0-9]){0,3}")
# Deliberately loose: the mail server is the real judge; this catches typing slips only.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_VAT = re.compile(r"NL[0-9]{9}B[0-9]{2}")
_WEBSITE = re.compile(r"(?:https?://)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/?#]\S*)?", re.IGNORECASE)


def check_kvk_number(value: str) -> str:
    """A KvK number: exactly 8 digits, kept as a string (leading zeros matter)."""
    kvk = value.strip()
    if not _KVK.fullmatch(kvk):
        raise ValueError(f"a KvK number has exactly 8 digits (e.g. 01234567), not {value!r}")
    return kvk


def check_region(value: str) -> Region:
    region = value.strip().lower()
    for known in REGIONS:
        if region == known:
            return known
    raise ValueError(f"unknown region {value!r}; one of {', '.join(REGIONS)}")


def check_nace_code(value: str) -> str:
    """A NACE (or SBI) activity code; the cohort rule reads its section from it."""
    code = value.strip().upper().replace(" ", "")
    if not _NACE.fullmatch(code):
        raise ValueError(f"{value!r} is not a NACE code (e.g. C25.62 or 25.62)")
    cohort.nace_section(code)  # a division that does not exist, or a contradicting letter
    return code


def check_vat_number(value: str) -> str:
    """A Dutch VAT number (btw-id): NL + 9 digits + B + 2 digits, passing the 11-test or mod 97."""
    # stdnum pads a short number with zeros; the format has exactly 9 digits, so check it first.
    spelled = re.sub(r"[\s.-]", "", value).upper()
    try:
        if not _VAT.fullmatch(spelled):
            raise StdnumError
        return "NL" + btw.validate(spelled)
    except StdnumError:
        raise ValueError(
            f"{value!r} is not a valid Dutch VAT number (NL, 9 digits, B, 2 digits, e.g. NL004495445B01)"
        ) from None


def check_website(value: str) -> str:
    website = value.strip()
    if not _WEBSITE.fullmatch(website):
        raise ValueError(f"{value!r} is not a website address (e.g. https://www.example.nl)")
    return website if "://" in website else f"https://{website}"


def check_email(value: str) -> str:
    email = value.strip()
    if not _EMAIL.fullmatch(email):
        raise ValueError(f"{value!r} is not an e-mail address")
    return email


def check_foundation_year(year: int, current_year: int) -> int:
    """A foundation year no later than the current year (of the hub's clock)."""
    if year > current_year:
        raise ValueError(f"{year} is in the future: a company founded in {current_year} or earlier")
    return year


def interview_moment(moment: datetime, zone: ZoneInfo, now: datetime) -> datetime:
    """The start of an interview, in UTC: a time with a UTC offset as it is, one without as local
    time in `zone`. Refused: a local time that does not exist (the hour the clocks go forward) and a
    moment before `now`. A local time that occurs twice (the hour the clocks go back) is taken as
    its first occurrence, the one before the change (summer time); give an offset for the other.
    """
    if moment.tzinfo is None:
        local = moment.replace(tzinfo=zone, fold=0)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
            raise ValueError(
                f"{moment:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks go forward that "
                "night; choose another time, or give a UTC offset"
            )
        moment = local
    if moment < now:
        raise ValueError(
            f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key}) is in the past: an interview is "
            f"scheduled from now on ({now.astimezone(zone):%Y-%m-%d %H:%M})"
        )
    return moment.astimezone(UTC)


class HasEmail(Protocol):
    @property
    def email(self) -> str | None: ...


C = TypeVar("C", bound=HasEmail)


def primary_contact(contacts: Sequence[C]) -> C | None:
    """The contact messages go to: the first one with an e-mail address, in the order given."""
    return next((contact for contact in contacts if contact.email), None)
