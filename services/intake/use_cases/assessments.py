"""Digital maturity assessments: staff enter the answers from the interview, or the company sends
its own through its questionnaire link; both are checked and scored by `dma` alike and publish
`assessment-completed` with the stage and scores (no personal data). Also the T0/T1 read with its
delta, and the scores as the API shows them."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, exists, select

from services.intake import dma
from services.intake.audit import audit
from services.intake.records import Assessment, AssessmentPublic, AssessmentsPublic, Delta
from services.intake.use_cases.common import known_company, now_utc, require_in_programme
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.intake import AssessmentCompleted, AssessmentStage, DimensionScores
from shared.errors import Conflict, Invalid
from shared.outbox import Outbox


def check_answers(answers: Any, version: str) -> None:
    """Invalid naming every offending item of `answers`."""
    problems = dma.check_answers(answers, version)
    if problems:
        raise Invalid.of(problems)


def already_assessed(company_id: str, stage: AssessmentStage) -> Conflict:
    return Conflict(f"company {company_id} already has a {stage} assessment")


async def submit_assessment(
    session: AsyncSession, company_id: str, stage: AssessmentStage, version: str, answers: Any, *,
    entered_by: str, hub_id: str, clock: Clock, outbox: Outbox, staff: Principal | None = None,
) -> AssessmentPublic:
    """Check, score and store one assessment and publish it; Invalid / Conflict store nothing.
    `staff` limits an advisor to the companies of its regions (the company's own link has none)."""
    check_answers(answers, version)
    company = await known_company(session, hub_id, company_id, staff=staff, for_update=True)
    require_in_programme(company)
    stored = await assessments_of(session, company_id)
    if stage in stored:
        raise already_assessed(company_id, stage)
    if dma.needs_t0_first(stage, stored):
        raise Conflict("a T1 assessment needs the T0 assessment first")
    scores = dma.score(answers, version)
    assessment = Assessment(
        hub_id=company.hub_id, company_id=company_id, stage=stage, questionnaire_version=version,
        answers=answers, exact_scores={d: str(v) for d, v in scores.dimensions.items()},
        entered_by=entered_by, completed_at=now_utc(clock),
    )
    session.add(assessment)
    await session.flush()
    shown = scores_of(assessment)
    await outbox.add(
        session, "assessment-completed",
        AssessmentCompleted(
            hub_id=company.hub_id, company_id=company_id, assessment_id=assessment.id, stage=stage,
            questionnaire_version=version, dimensions=shown.dimensions,
            overall=shown.overall, band=shown.band, completed_at=assessment.completed_at,
        ),
        event_id=derived_event_id("assessment-completed", assessment.id),
    )
    audit(session, clock, hub_id, entered_by, company_id, "assessment-completed",
          {"stage": stage, "band": shown.band})
    return shown


async def read_assessments(
    session: AsyncSession, hub_id: str, company_id: str, staff: Principal
) -> AssessmentsPublic:
    """T0 and T1 (None until assessed) and the delta T1 - T0 per dimension and overall."""
    await known_company(session, hub_id, company_id, staff=staff)
    stored = await assessments_of(session, company_id)
    shown = {stage: scores_of(a) for stage, a in stored.items()}
    delta = None
    if "T0" in stored and "T1" in stored:
        change = exact_scores(stored["T1"]).minus(exact_scores(stored["T0"]))
        delta = Delta(dimensions=_dimensions(change), overall=float(dma.rounded(change.overall)))
    return AssessmentsPublic(T0=shown.get("T0"), T1=shown.get("T1"), delta=delta)


async def assessments_of(session: AsyncSession, company_id: str) -> dict[str, Assessment]:
    query = select(Assessment).where(Assessment.company_id == company_id)
    return {a.stage: a for a in (await session.execute(query)).scalars()}


async def has_assessment(session: AsyncSession, company_id: str, stage: AssessmentStage) -> bool:
    """Whether the company has its `stage` assessment (without loading it)."""
    query = select(exists().where(col(Assessment.company_id) == company_id, col(Assessment.stage) == stage))
    return bool(await session.scalar(query))


def exact_scores(assessment: Assessment) -> dma.Scores:
    return dma.Scores({d: Fraction(assessment.exact_scores[d]) for d in dma.DIMENSIONS})


def _dimensions(scores: dma.Scores) -> DimensionScores:
    return DimensionScores(**{d: float(dma.rounded(v)) for d, v in scores.dimensions.items()})


def scores_of(assessment: Assessment) -> AssessmentPublic:
    """An assessment as the API shows it: its scores rounded, and its band."""
    scores = exact_scores(assessment)
    return AssessmentPublic(
        id=assessment.id, stage=assessment.stage, dimensions=_dimensions(scores),
        overall=float(dma.rounded(scores.overall)), band=dma.band(scores.overall),
    )
