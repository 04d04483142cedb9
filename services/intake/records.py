"""Intake's journey records and their HTTP shapes: the intake interview (`intakes`), the digital
maturity assessments (`assessments`, T0 and T1, one each per company) and the agreed plan (`plans`).
`models.MODELS` lists these tables with the company tables (this module imports nothing of it).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import model_validator
from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.contracts.intake import AssessmentStage, Band, DimensionScores, ServiceKind
from shared.db import UTCDateTime

Outcome = Literal["completed", "no_show", "cancelled"]


def new_id() -> str:
    return str(uuid.uuid4())


class Intake(SQLModel, table=True):
    """A company's intake interview: scheduled (and rescheduled) with an advisor, then its outcome."""

    __tablename__ = "intakes"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str
    company_id: str = Field(foreign_key="companies.id", unique=True, max_length=36)
    advisor_id: str
    scheduled_at: datetime = Field(sa_type=UTCDateTime)
    outcome: Outcome | None = Field(default=None, sa_type=String(20))
    notes: str | None = None
    needs: list[str] = Field(default_factory=list, sa_type=JSON)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IntakeSchedule(SQLModel):
    advisor_id: str = Field(min_length=1, max_length=100, description="The advisor's staff account id.")
    scheduled_at: datetime = Field(
        description="Start of the interview; without a UTC offset it is read as Europe/Amsterdam time.",
        schema_extra={"examples": ["2026-03-10T10:00"]},
    )


class IntakeOutcome(SQLModel):
    outcome: Outcome = Field(description="completed publishes intake-completed; the others do not.")
    notes: str | None = Field(default=None, max_length=10_000)
    needs: list[ServiceKind] = Field(default_factory=list, description="Needs noted in the interview.")


class IntakePublic(SQLModel):
    id: str
    company_id: str
    advisor_id: str
    scheduled_at: datetime
    outcome: Outcome | None
    notes: str | None
    needs: list[str]
    completed_at: datetime | None


class Assessment(SQLModel, table=True):
    """One scored assessment; the scores are kept exact ("n/d" fractions) and rounded on output."""

    __tablename__ = "assessments"
    # The database settles two concurrent first T0s: one is stored, the other is a 409.
    __table_args__ = (UniqueConstraint("company_id", "stage", name="uq_assessments_company_stage"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str
    company_id: str = Field(foreign_key="companies.id", index=True, max_length=36)
    stage: AssessmentStage = Field(sa_type=String(2))
    questionnaire_version: str
    answers: dict[str, Any] = Field(sa_type=JSON)
    exact_scores: dict[str, str] = Field(sa_type=JSON)
    entered_by: str = Field(description="The staff account, or `company` through the invitation link.")
    completed_at: datetime = Field(sa_type=UTCDateTime)


class AssessmentAnswers(SQLModel):
    """What the company sends through its invitation link."""

    answers: dict[str, Any] = Field(description="q1..q11, each mapping its items to answers.")


class AssessmentCreate(AssessmentAnswers):
    stage: AssessmentStage
    questionnaire_version: Literal["sme-v1"]


class AssessmentPublic(SQLModel):
    id: str
    stage: AssessmentStage
    dimensions: DimensionScores
    overall: float
    band: Band


class Delta(SQLModel):
    dimensions: DimensionScores
    overall: float


class AssessmentsPublic(SQLModel):
    T0: AssessmentPublic | None
    T1: AssessmentPublic | None
    delta: Delta | None = Field(description="T1 - T0 from the exact scores, rounded; null until both exist.")


class Plan(SQLModel, table=True):
    __tablename__ = "plans"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str
    company_id: str = Field(foreign_key="companies.id", unique=True, max_length=36)
    items: list[dict[str, Any]] = Field(sa_type=JSON)
    agreed_by: str
    agreed_at: datetime = Field(sa_type=UTCDateTime)


class PlanItemIn(SQLModel):
    kind: ServiceKind
    title: str = Field(min_length=1, max_length=300)
    amount_eur: Decimal | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    purpose: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _financing_needs_amount_and_purpose(self) -> PlanItemIn:
        if self.kind == "financing" and (self.amount_eur is None or not self.purpose):
            raise ValueError("a financing item needs amount_eur (in euro) and purpose")
        return self


class PlanAgree(SQLModel):
    items: list[PlanItemIn] = Field(min_length=1)


class PlanItemOut(SQLModel):
    item_id: str | None = None
    kind: ServiceKind
    title: str
    amount_eur: Decimal | None = None
    purpose: str | None = None


class PlanPublic(SQLModel):
    id: str | None = Field(description="None for a proposal not yet agreed.")
    status: Literal["proposed", "agreed"]
    items: list[PlanItemOut]
    agreed_by: str | None = None
    agreed_at: datetime | None = None


class ExitRequest(SQLModel):
    reason: str = Field(min_length=1, max_length=1000)
