"""The cohort rules, without I/O: which NACE codes are manufacturing (section C), which quota pool a
region belongs to, the status a new registration gets, which exits free a place, and why a company
does not take part in the programme (it left, or holds no place).

NACE codes arrive as a section letter ("C"), a division with optional group and class ("25.62"),
both ("C25.62"), or the Dutch SBI spelling ("2562", "25621", whose first two digits are the NACE
division). The section is read from the division when there is one (NACE Rev. 2: manufacturing is
divisions 10 to 33) and from the letter otherwise; a letter that contradicts the division is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from shared.contracts.intake import CohortStatus

Exit = Literal["withdrawn", "not_eligible", "referred_out"]
# Why a company does not take part in the programme (see `programme_problem`).
ProgrammeProblem = Literal["left", "not_admitted"]

# NACE Rev. 2: section letter -> its divisions (inclusive ranges).
_SECTIONS: dict[str, tuple[tuple[int, int], ...]] = {
    "A": ((1, 3),), "B": ((5, 9),), "C": ((10, 33),), "D": ((35, 35),), "E": ((36, 39),),
    "F": ((41, 43),), "G": ((45, 47),), "H": ((49, 53),), "I": ((55, 56),), "J": ((58, 63),),
    "K": ((64, 66),), "L": ((68, 68),), "M": ((69, 75),), "N": ((77, 82),), "O": ((84, 84),),
    "P": ((85, 85),), "Q": ((86, 88),), "R": ((90, 93),), "S": ((94, 96),), "T": ((97, 98),),
    "U": ((99, 99),),
}
MANUFACTURING = "C"


def section_of_division(division: int) -> str | None:
    for letter, ranges in _SECTIONS.items():
        if any(low <= division <= high for low, high in ranges):
            return letter
    return None


def nace_section(code: str) -> str:
    """The NACE section letter of a normalised code (see `domain.check_nace_code`).

    Raises ValueError for a division that does not exist or a letter that contradicts it.
    """
    letter = code[0] if code[:1].isalpha() else None
    digits = code[1:] if letter else code
    if not digits:
        if letter not in _SECTIONS:
            raise ValueError(f"{code!r}: there is no NACE section {letter}")
        return letter
    division = int(digits[:2])
    section = section_of_division(division)
    if section is None:
        raise ValueError(f"{code!r}: there is no NACE division {division:02d}")
    if letter is not None and letter != section:
        raise ValueError(f"{code!r}: division {division:02d} is in section {section}, not {letter}")
    return section


def is_manufacturing(code: str) -> bool:
    return nace_section(code) == MANUFACTURING


def pool_of(region: str, pools: Mapping[str, Sequence[str]]) -> str | None:
    """The quota pool whose regions include `region`, None when no pool covers it."""
    return next((pool for pool, regions in pools.items() if region in regions), None)


def status_for(*, nace_code: str, pool: str | None, taken: int, size: int) -> CohortStatus:
    """The cohort status of a company registering now, given its pool's places taken and size.

    Only manufacturing companies in a region with a pool take a place; the others are registered
    outside the cohort (and may be referred to a partner hub).
    """
    if pool is None or not is_manufacturing(nace_code):
        return "outside_cohort"
    return "admitted" if taken < size else "waitlisted"


def exit_frees_place(exit_: Exit, *, plan_agreed: bool) -> bool:
    """Whether a company with a place that leaves this way frees it.

    A place is freed only when the company leaves without being served: withdrawn or found not
    eligible before its plan was agreed, or referred out (at any point). One that completes its
    journey, or leaves after its plan was agreed, was served and keeps its place.
    """
    if exit_ == "referred_out":
        return True
    return not plan_agreed


class Member(Protocol):
    """What `programme_problem` reads of a company."""

    @property
    def exit_status(self) -> str | None: ...
    @property
    def cohort_status(self) -> str: ...


def programme_problem(company: Member) -> ProgrammeProblem | None:
    """Why `company` does not take part in the programme: it has `left` (an exit is recorded), or
    it holds no place (`not_admitted`: waitlisted or outside the cohort). None when it takes part."""
    if company.exit_status is not None:
        return "left"
    if company.cohort_status != "admitted":
        return "not_admitted"
    return None
