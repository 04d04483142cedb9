"""Events published by the intake service (companies, contacts, assessments)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.contracts.base import Contract, EventData

Region = Literal["drenthe", "groningen", "friesland"]
CohortStatus = Literal["admitted", "waitlisted", "outside_cohort"]


class CompanyRegistered(EventData):
    """A company was registered; its cohort status says whether it took a place."""

    kvk_number: str = Field(pattern=r"^\d{8}$")
    legal_name: str
    region: Region
    nace_code: str
    cohort_status: CohortStatus


CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "company-registered", "intake", "event", CompanyRegistered, ("intake",),
        "Every accepted registration, with its cohort status.",
    ),
)
