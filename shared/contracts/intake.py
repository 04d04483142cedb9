"""Events published by the intake service: companies and the cohort, intake interviews, digital
maturity assessments, the agreed plan, exits and erasure."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Contract, EventData

Region = Literal["drenthe", "groningen", "friesland"]
CohortStatus = Literal["admitted", "waitlisted", "outside_cohort"]
AssessmentStage = Literal["T0", "T1"]
Band = Literal["basic", "average", "moderately_advanced", "advanced"]
ServiceKind = Literal["training", "financing", "test_before_invest", "networking"]


class CompanyRegistered(EventData):
    """A company was registered; its cohort status says whether it took a place."""

    kvk_number: str = Field(pattern=r"^\d{8}$")
    legal_name: str
    region: Region
    nace_code: str
    cohort_status: CohortStatus


class CompanyAdmitted(EventData):
    """A waitlisted company took a place that freed up in its quota pool."""

    pool: str = Field(description="The quota pool, e.g. drenthe or groningen-friesland.")


class IntakeScheduled(EventData):
    """The intake interview was scheduled (or rescheduled) with an advisor."""

    intake_id: str
    scheduled_at: datetime = Field(description="Start of the interview (UTC).")
    advisor_id: str = Field(description="The staff account of the advisor.")
    rescheduled: bool = False


class IntakeCompleted(EventData):
    """The intake interview took place; its notes stay in intake."""

    intake_id: str
    completed_at: datetime
    outcome: str = Field(description="The recorded outcome, e.g. completed or no_show.")


class DimensionScores(BaseModel):
    """The six DMA dimension scores (0-100, one decimal)."""

    model_config = ConfigDict(extra="ignore")

    digital_business_strategy: float
    digital_readiness: float
    human_centric_digitalisation: float
    data_management: float
    automation_ai: float
    green_digitalisation: float


class AssessmentCompleted(EventData):
    """A digital maturity assessment (T0 before support, T1 after) was scored."""

    assessment_id: str
    stage: AssessmentStage
    questionnaire_version: str
    dimensions: DimensionScores
    overall: float
    band: Band
    completed_at: datetime


class PlanItem(BaseModel):
    """One planned service to the company; the journey follows each to its end."""

    model_config = ConfigDict(extra="ignore")

    item_id: str
    kind: ServiceKind
    title: str
    amount_eur: Decimal | None = Field(None, description="For a financing need: the amount sought.")
    purpose: str | None = None


class PlanAgreed(EventData):
    """The advisor and the company agreed a plan of services."""

    plan_id: str
    items: list[PlanItem] = Field(min_length=1)
    agreed_by: str = Field(description="The staff account that agreed it.")
    agreed_at: datetime


class CompanyWithdrawn(EventData):
    """The company withdrew from the programme."""

    reason: str
    actor: str


class CompanyNotEligible(EventData):
    """Staff found the company not eligible."""

    reason: str
    actor: str


class ContactsErased(EventData):
    """The company's contacts' personal data was erased; other services erase theirs."""

    erased_at: datetime


def _event(name: str, model: type[EventData], description: str) -> Contract:
    return Contract(name, "intake", "event", model, ("intake",), description)


CONTRACTS: tuple[Contract, ...] = (
    _event("company-registered", CompanyRegistered,
           "Every accepted registration, with its cohort status."),
    _event("company-admitted", CompanyAdmitted,
           "A waitlisted company was admitted to a freed place."),
    _event("intake-scheduled", IntakeScheduled, "The intake interview was (re)scheduled."),
    _event("intake-completed", IntakeCompleted, "The intake interview took place."),
    _event("assessment-completed", AssessmentCompleted,
           "A digital maturity assessment (T0 or T1) was scored."),
    _event("plan-agreed", PlanAgreed, "A plan of services was agreed, one item per service."),
    _event("company-withdrawn", CompanyWithdrawn, "The company withdrew."),
    _event("company-not-eligible", CompanyNotEligible, "Staff found the company not eligible."),
    _event("contacts-erased", ContactsErased, "A company's contacts were erased on request."),
)
