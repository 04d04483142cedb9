"""The cohort rules: NACE section C (divisions 10-33) takes a place, in the pool of the company's
region; admitted while the pool has a place, waitlisted when it is full; and only leaving without
being served frees a place."""

from __future__ import annotations

import pytest

from services.intake import cohort

POOLS = {"drenthe": ["drenthe"], "groningen-friesland": ["groningen", "friesland"]}


@pytest.mark.parametrize(
    ("code", "section"),
    [("C", "C"), ("C10", "C"), ("10.11", "C"), ("C25.62", "C"), ("25.62", "C"), ("2562", "C"),
     ("25621", "C"), ("33.20", "C"), ("09.90", "B"), ("35.11", "D"), ("62.01", "J"), ("6201", "J"),
     ("A", "A"), ("01.11", "A")],
)
def test_the_section_is_read_from_the_division_or_else_the_letter(code: str, section: str) -> None:
    assert cohort.nace_section(code) == section


@pytest.mark.parametrize("code", ["C", "10.11", "C25.62", "2562", "33.20"])
def test_manufacturing_is_section_c(code: str) -> None:
    assert cohort.is_manufacturing(code)


@pytest.mark.parametrize("code", ["09.90", "35.11", "62.01", "J", "4711"])
def test_other_sections_are_not_manufacturing(code: str) -> None:
    assert not cohort.is_manufacturing(code)


@pytest.mark.parametrize(
    ("region", "pool"), [("drenthe", "drenthe"), ("groningen", "groningen-friesland"),
                         ("friesland", "groningen-friesland"), ("utrecht", None)],
)
def test_groningen_and_friesland_share_a_pool(region: str, pool: str | None) -> None:
    assert cohort.pool_of(region, POOLS) == pool


@pytest.mark.parametrize(
    ("taken", "status"), [(0, "admitted"), (79, "admitted"), (80, "waitlisted"), (81, "waitlisted")]
)
def test_a_manufacturer_is_admitted_while_its_pool_has_a_place(taken: int, status: str) -> None:
    assert cohort.status_for(nace_code="C25.62", pool="drenthe", taken=taken, size=80) == status


@pytest.mark.parametrize(("code", "pool"), [("62.01", "drenthe"), ("C25.62", None)])
def test_a_non_manufacturer_or_a_region_without_a_pool_is_outside_the_cohort(
    code: str, pool: str | None
) -> None:
    assert cohort.status_for(nace_code=code, pool=pool, taken=0, size=80) == "outside_cohort"


@pytest.mark.parametrize(
    ("exit_", "plan_agreed", "frees"),
    [("withdrawn", False, True), ("not_eligible", False, True), ("withdrawn", True, False),
     ("not_eligible", True, False), ("referred_out", False, True), ("referred_out", True, True)],
)
def test_only_leaving_without_being_served_frees_a_place(
    exit_: cohort.Exit, plan_agreed: bool, frees: bool
) -> None:
    assert cohort.exit_frees_place(exit_, plan_agreed=plan_agreed) is frees
