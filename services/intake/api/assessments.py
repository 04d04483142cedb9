"""Digital maturity assessments: staff enter answers from the interview (the company fills in the
same questionnaire through its invitation link, see `public`); both are scored by `dma` and
publish `assessment-completed` with the stage and scores (no personal data)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, exists, select

from services.intake import dma
from services.intake.api.common import (
    StaffReader,
    StaffWriter,
    company_or_404,
    now_utc,
    require_in_programme,
    write,
)
from services.intake.audit import audit
from services.intake.records import (
    Assessment,
    AssessmentCreate,
    AssessmentPublic,
    AssessmentsPublic,
    Delta,
)
from shared.auth import Principal
from shared.contracts import derived_event_id
from shared.contracts.intake import AssessmentCompleted, AssessmentStage, DimensionScores
from shared.idempotency import FROM_HEADER, Key
from shared.service import ContextDep, ServiceContext

router = APIRouter(tags=["assessments"])


@router.post("/companies/{company_id}/assessments", status_code=201, response_model=AssessmentPublic,
             responses={409: {"description": "A T1 before the T0, or a stage already assessed."},
                        422: {"description": "Invalid answers, every offending item named."}})
async def enter_assessment(
    company_id: str, body: AssessmentCreate, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Score and store an assessment entered by staff (e.g. from the interview)."""
    return await submit(ctx, request, company_id, body.stage, body.questionnaire_version, body.answers,
                        entered_by=staff.subject, staff=staff)


@router.get("/companies/{company_id}/assessments", response_model=AssessmentsPublic)
async def read_assessments(company_id: str, ctx: ContextDep, staff: StaffReader) -> AssessmentsPublic:
    """T0 and T1 (null until assessed) and the delta T1 - T0 per dimension and overall."""
    async with ctx.db.reading() as session:
        await company_or_404(session, ctx, company_id, staff=staff)
        stored = await assessments_of(session, company_id)
    shown = {stage: _public(a) for stage, a in stored.items()}
    delta = None
    if "T0" in stored and "T1" in stored:
        change = exact_scores(stored["T1"]).minus(exact_scores(stored["T0"]))
        delta = Delta(dimensions=_dimensions(change), overall=float(dma.rounded(change.overall)))
    return AssessmentsPublic(T0=shown.get("T0"), T1=shown.get("T1"), delta=delta)


async def submit(
    ctx: ServiceContext, request: Request, company_id: str, stage: AssessmentStage, version: str,
    answers: Any, *, entered_by: str, staff: Principal | None = None, key: Key = FROM_HEADER,
    payload: bytes | None = None,
) -> JSONResponse:
    """Check, score and store one assessment and publish it; 422 / 409 store nothing. `key` and
    `payload` stand in for the request's `Idempotency-Key` and body (see `write`)."""
    problems = dma.check_answers(answers, version)
    if problems:
        return JSONResponse({"message": "; ".join(problems), "errors": problems},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        require_in_programme(company)
        stored = await assessments_of(session, company_id)
        if stage in stored:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"company {company_id} already has a {stage} assessment"
            )
        if dma.needs_t0_first(stage, stored):
            raise HTTPException(status.HTTP_409_CONFLICT, "a T1 assessment needs the T0 assessment first")
        scores = dma.score(answers, version)
        assessment = Assessment(
            hub_id=company.hub_id, company_id=company_id, stage=stage, questionnaire_version=version,
            answers=answers, exact_scores={d: str(v) for d, v in scores.dimensions.items()},
            entered_by=entered_by, completed_at=now_utc(ctx),
        )
        session.add(assessment)
        await session.flush()
        shown = _public(assessment)
        await ctx.outbox.add(
            session, "assessment-completed",
            AssessmentCompleted(
                hub_id=company.hub_id, company_id=company_id, assessment_id=assessment.id, stage=stage,
                questionnaire_version=version, dimensions=shown.dimensions,
                overall=shown.overall, band=shown.band, completed_at=assessment.completed_at,
            ),
            event_id=derived_event_id("assessment-completed", assessment.id),
        )
        audit(session, ctx, entered_by, company_id, "assessment-completed",
              {"stage": stage, "band": shown.band})
        return 201, shown.model_dump(mode="json")

    try:
        # The company's own link has no company_id in its path: the answer is about this company.
        return await write(ctx, request, work, subject=lambda _body: company_id, key=key, payload=payload)
    except IntegrityError:
        # Two first submissions of one stage at once: the database kept one.
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"company {company_id} already has a {stage} assessment") from None


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


def _public(assessment: Assessment) -> AssessmentPublic:
    scores = exact_scores(assessment)
    return AssessmentPublic(
        id=assessment.id, stage=assessment.stage, dimensions=_dimensions(scores),
        overall=float(dma.rounded(scores.overall)), band=dma.band(scores.overall),
    )
