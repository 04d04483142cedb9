"""Intake's pure rules: KvK and VAT numbers, regions, NACE codes, e-mail and website formats, the
foundation year, the moment of an interview given in Amsterdam time, and the primary contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.intake import domain


@pytest.mark.parametrize("kvk", ["12345678", "01234567", "00000001", " 12345678 "])
def test_a_kvk_number_of_eight_digits_is_accepted_with_its_leading_zeros(kvk: str) -> None:
    assert domain.check_kvk_number(kvk) == kvk.strip()


@pytest.mark.parametrize(
    "kvk",
    ["1234567", "123456789", "1234567a", "1234 5678", "", "123456789012", "١٢٣٤٥٦٧٨", "12345678\n9"],
)
def test_anything_but_eight_ascii_digits_is_not_a_kvk_number(kvk: str) -> None:
    with pytest.raises(ValueError, match="8 digits"):
        domain.check_kvk_number(kvk)


@pytest.mark.parametrize(
    ("given", "region"),
    [("drenthe", "drenthe"), ("Groningen", "groningen"), (" FRIESLAND ", "friesland")],
)
def test_the_three_northern_regions_are_known(given: str, region: str) -> None:
    assert domain.check_region(given) == region


@pytest.mark.parametrize("region", ["utrecht", "noord-holland", "", "groningen-friesland"])
def test_another_region_is_refused_naming_the_known_ones(region: str) -> None:
    with pytest.raises(ValueError, match="drenthe, groningen, friesland"):
        domain.check_region(region)


@pytest.mark.parametrize(
    ("given", "code"),
    [("C25.62", "C25.62"), ("25.62", "25.62"), ("c 25.62", "C25.62"), ("2562", "2562"),
     ("25621", "25621"), ("C", "C"), ("C10", "C10")],
)
def test_nace_and_sbi_codes_are_accepted_and_normalised(given: str, code: str) -> None:
    assert domain.check_nace_code(given) == code


@pytest.mark.parametrize("code", ["", "manufacturing", "2", "C2", "25.62.1.9", "CC25", "25-62"])
def test_text_that_is_no_activity_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="not a NACE code"):
        domain.check_nace_code(code)


@pytest.mark.parametrize("email", ["anna@acme.nl", "a.b+intake@sub.example.co.uk", " anna@acme.nl "])
def test_an_email_address_is_accepted(email: str) -> None:
    assert domain.check_email(email) == email.strip()


@pytest.mark.parametrize(
    "email", ["not-an-email", "anna@", "@acme.nl", "anna@acme", "anna @acme.nl", "anna@@acme.nl",
              "anna@acme..nl"]
)
def test_a_mistyped_email_address_is_refused(email: str) -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
        domain.check_email(email)


@dataclass
class Person:
    name: str
    email: str | None


def test_the_primary_contact_is_the_first_with_an_email_in_the_order_given() -> None:
    contacts = [Person("no mail", None), Person("first", "a@x.nl"), Person("second", "b@x.nl")]
    assert domain.primary_contact(contacts) == contacts[1]


def test_there_is_no_primary_contact_without_an_email() -> None:
    assert domain.primary_contact([Person("no mail", None)]) is None
    assert domain.primary_contact([]) is None


@pytest.mark.parametrize(
    ("given", "vat"),
    [("NL004495445B01", "NL004495445B01"), ("nl 0044.95.445.B01", "NL004495445B01"),
     # the 11-test (RSIN-based), mod 97 (sole trader), another sub-number
     ("NL000099998B57", "NL000099998B57"), ("NL004495445B02", "NL004495445B02")],
)
def test_a_dutch_vat_number_passing_either_check_is_accepted(given: str, vat: str) -> None:
    assert domain.check_vat_number(given) == vat


@pytest.mark.parametrize(
    "vat", ["NL004495445B00", "NL004495446B01", "NL00449544B01", "DE004495445B01", "NL004495445", "", "x"]
)
def test_a_vat_number_failing_format_or_checksum_is_refused(vat: str) -> None:
    with pytest.raises(ValueError, match="not a valid Dutch VAT number"):
        domain.check_vat_number(vat)


@pytest.mark.parametrize(
    ("given", "website"),
    [("https://www.acme.nl", "https://www.acme.nl"), ("acme.nl", "https://acme.nl"),
     ("http://acme.nl/over-ons", "http://acme.nl/over-ons")],
)
def test_a_website_is_accepted_with_a_scheme(given: str, website: str) -> None:
    assert domain.check_website(given) == website


@pytest.mark.parametrize("website", ["acme", "mailto:a@acme.nl", "https://", "acme .nl"])
def test_text_that_is_no_website_is_refused(website: str) -> None:
    with pytest.raises(ValueError, match="not a website"):
        domain.check_website(website)


@pytest.mark.parametrize(
    ("code", "problem"),
    [("C62.01", "division 62 is in section J, not C"), ("J25", "division 25 is in section C, not J"),
     ("34.10", "no NACE division 34"), ("Z", "no NACE section Z")],
)
def test_a_code_whose_letter_contradicts_its_division_or_that_does_not_exist_is_refused(
    code: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        domain.check_nace_code(code)


AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EARLY_2026 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "utc"),
    [
        (datetime(2026, 3, 10, 10, 0), datetime(2026, 3, 10, 9, 0, tzinfo=UTC)),  # CET
        (datetime(2026, 4, 10, 10, 0), datetime(2026, 4, 10, 8, 0, tzinfo=UTC)),  # CEST
        (datetime(2026, 3, 29, 3, 0), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # just after the gap
        (datetime(2026, 3, 29, 1, 59), datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),  # just before it
        # 02:30 on 25 October happens twice: first in summer time (UTC+2), then in winter time.
        (datetime(2026, 10, 25, 2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 2, 30, tzinfo=UTC), datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        (datetime.fromisoformat("2026-10-25T02:30+01:00"), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ],
)
def test_an_interview_time_without_offset_is_amsterdam_time_and_an_ambiguous_one_its_first_occurrence(
    given: datetime, utc: datetime
) -> None:
    moment = domain.interview_moment(given, AMSTERDAM, EARLY_2026)
    assert moment == utc
    assert moment.tzinfo == UTC


@pytest.mark.parametrize("given", [datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 2, 30),
                                   datetime(2026, 3, 29, 2, 59)])
def test_a_local_time_the_clocks_skip_is_refused_saying_why(given: datetime) -> None:
    with pytest.raises(ValueError, match="does not exist in Europe/Amsterdam: the clocks go forward"):
        domain.interview_moment(given, AMSTERDAM, EARLY_2026)


def test_an_interview_in_the_past_is_refused_and_now_is_not_the_past() -> None:
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    assert domain.interview_moment(datetime(2026, 3, 10, 10, 0), AMSTERDAM, now) == now
    with pytest.raises(ValueError, match=r"2026-03-10 09:59 \(Europe/Amsterdam\) is in the past"):
        domain.interview_moment(datetime(2026, 3, 10, 9, 59), AMSTERDAM, now)
    with pytest.raises(ValueError, match="in the past"):
        domain.interview_moment(datetime(2026, 3, 10, 8, 59, tzinfo=UTC), AMSTERDAM, now)


def test_a_foundation_year_up_to_the_current_one_is_accepted() -> None:
    assert domain.check_foundation_year(2026, 2026) == 2026
    assert domain.check_foundation_year(1850, 2026) == 1850
    with pytest.raises(ValueError, match="2027 is in the future"):
        domain.check_foundation_year(2027, 2026)
