"""The intake interview: schedule it with an advisor (a time without offset is Europe/Amsterdam
time, stored in UTC; not in the past, not an hour the clocks skip), reschedule it, record its
outcome and notes."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain
from services.intake.api.common import (
    StaffReader,
    StaffWriter,
    company_or_404,
    intake_of,
    invalid,
    now_utc,
    require_in_programme,
    write,
)
from services.intake.audit import audit
from services.intake.records import Intake, IntakeOutcome, IntakePublic, IntakeSchedule
from shared.auth import Principal
from shared.contracts import derived_event_id, new_event_id
from shared.contracts.intake import IntakeCompleted, IntakeScheduled
from shared.service import ContextDep, ServiceContext

router = APIRouter(tags=["intake interview"])


def _utc(moment: datetime, ctx: ServiceContext) -> datetime:
    """The interview's start in UTC (see `domain.interview_moment`); 422 for a local time that does
    not exist or a moment in the past."""
    try:
        return domain.interview_moment(moment, ctx.calendar.timezone, ctx.clock.now())
    except ValueError as error:
        raise invalid(("body", "scheduled_at"), str(error), moment.isoformat()) from None


async def _scheduled_event(ctx: ServiceContext, session: AsyncSession, intake: Intake, again: bool) -> None:
    data = IntakeScheduled(
        hub_id=intake.hub_id, company_id=intake.company_id, intake_id=intake.id,
        scheduled_at=intake.scheduled_at, advisor_id=intake.advisor_id, rescheduled=again,
    )
    event_id = new_event_id() if again else derived_event_id("intake-scheduled", intake.id)
    await ctx.outbox.add(session, "intake-scheduled", data, event_id=event_id)


async def _open_intake(
    session: AsyncSession, ctx: ServiceContext, company_id: str, staff: Principal
) -> Intake:
    """The company's intake, not yet held, with the company locked; 404 / 409 otherwise."""
    require_in_programme(await company_or_404(session, ctx, company_id, staff=staff, for_update=True))
    intake = await intake_of(session, company_id)
    if intake is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"company {company_id} has no intake scheduled")
    if intake.outcome == "completed":
        raise HTTPException(status.HTTP_409_CONFLICT, "the intake interview has already taken place")
    return intake


@router.post("/companies/{company_id}/intake", status_code=201, response_model=IntakePublic)
async def schedule(
    company_id: str, body: IntakeSchedule, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Schedule the intake interview (`intake-scheduled`); 409 when one is already scheduled."""

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        require_in_programme(company)
        if await intake_of(session, company_id) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, "the intake is already scheduled; PATCH it")
        intake = Intake(hub_id=company.hub_id, company_id=company_id, advisor_id=body.advisor_id,
                        scheduled_at=_utc(body.scheduled_at, ctx))
        session.add(intake)
        await session.flush()
        await _scheduled_event(ctx, session, intake, again=False)
        audit(session, ctx, staff.subject, company_id, "intake-scheduled",
              {"advisor_id": intake.advisor_id, "scheduled_at": intake.scheduled_at.isoformat()})
        return 201, IntakePublic.model_validate(intake).model_dump(mode="json")

    return await write(ctx, request, work)


@router.patch("/companies/{company_id}/intake", response_model=IntakePublic)
async def reschedule(
    company_id: str, body: IntakeSchedule, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Move the interview to another time or advisor (`intake-scheduled` with rescheduled true)."""

    async def work(session: AsyncSession) -> tuple[int, object]:
        intake = await _open_intake(session, ctx, company_id, staff)
        changes = {"from": intake.scheduled_at.isoformat(), "advisor_from": intake.advisor_id}
        intake.advisor_id, intake.scheduled_at = body.advisor_id, _utc(body.scheduled_at, ctx)
        intake.outcome = None
        session.add(intake)
        await _scheduled_event(ctx, session, intake, again=True)
        audit(session, ctx, staff.subject, company_id, "intake-rescheduled",
              {**changes, "to": intake.scheduled_at.isoformat(), "advisor_to": intake.advisor_id})
        return 200, IntakePublic.model_validate(intake).model_dump(mode="json")

    return await write(ctx, request, work)


@router.post("/companies/{company_id}/intake/outcome", response_model=IntakePublic)
async def record_outcome(
    company_id: str, body: IntakeOutcome, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Record the interview's outcome, notes and needs; `completed` publishes `intake-completed`
    (once), a no-show or cancellation leaves it to be rescheduled."""

    async def work(session: AsyncSession) -> tuple[int, object]:
        intake = await _open_intake(session, ctx, company_id, staff)
        intake.outcome, intake.notes, intake.needs = body.outcome, body.notes, list(body.needs)
        if body.outcome == "completed":
            intake.completed_at = now_utc(ctx)
            await ctx.outbox.add(
                session, "intake-completed",
                IntakeCompleted(hub_id=intake.hub_id, company_id=company_id, intake_id=intake.id,
                                completed_at=intake.completed_at, outcome=body.outcome),
                event_id=derived_event_id("intake-completed", intake.id),
            )
        session.add(intake)
        audit(session, ctx, staff.subject, company_id, "intake-outcome",
              {"outcome": body.outcome, "needs": list(body.needs)})
        return 200, IntakePublic.model_validate(intake).model_dump(mode="json")

    return await write(ctx, request, work)


@router.get("/companies/{company_id}/intake", response_model=IntakePublic)
async def read_intake(company_id: str, ctx: ContextDep, staff: StaffReader) -> IntakePublic:
    async with ctx.db.reading() as session:
        await company_or_404(session, ctx, company_id, staff=staff)
        intake = await intake_of(session, company_id)
    if intake is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"company {company_id} has no intake scheduled")
    return IntakePublic.model_validate(intake)
