"""The intake interview's routes: schedule it, move it (one use case), record its outcome, read it
(`use_cases.interviews`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.intake.api.common import StaffReader, StaffWriter, ZoneDep
from services.intake.records import IntakeOutcome, IntakePublic, IntakeSchedule
from services.intake.use_cases import interviews
from shared.service import ClockDep, HubDep, IdempotentDep, OutboxDep, ReadingDep

router = APIRouter(tags=["intake interview"])


# One route, one use case: PATCH moves the interview that POST scheduled (`again`).
@router.post("/companies/{company_id}/intake", status_code=201, response_model=IntakePublic)
@router.patch("/companies/{company_id}/intake", response_model=IntakePublic, name="reschedule",
              description="Move the interview to another time or advisor (`intake-scheduled` with "
              "rescheduled true); the same rules as scheduling it.")
async def schedule(
    company_id: str, body: IntakeSchedule, staff: StaffWriter, write: IdempotentDep, hub_id: HubDep,
    clock: ClockDep, outbox: OutboxDep, zone: ZoneDep, request: Request,
) -> IntakePublic | Response:
    """Schedule the intake interview (`intake-scheduled`); 409 when one is already scheduled. A
    time without UTC offset is the hub's local time (Europe/Amsterdam), stored in UTC."""
    return await write(lambda session: interviews.schedule_interview(
        session, company_id, body, again=request.method == "PATCH", hub_id=hub_id, clock=clock,
        outbox=outbox, zone=zone, staff=staff))


@router.post("/companies/{company_id}/intake/outcome", response_model=IntakePublic)
async def record_outcome(
    company_id: str, body: IntakeOutcome, staff: StaffWriter, write: IdempotentDep, hub_id: HubDep,
    clock: ClockDep, outbox: OutboxDep,
) -> IntakePublic | Response:
    """Record the interview's outcome, notes and needs; `completed` publishes `intake-completed`
    (once), a no-show or cancellation leaves it to be rescheduled."""
    return await write(lambda session: interviews.record_outcome(
        session, company_id, body, hub_id=hub_id, clock=clock, outbox=outbox, staff=staff))


@router.get("/companies/{company_id}/intake", response_model=IntakePublic)
async def read_intake(
    company_id: str, session: ReadingDep, hub_id: HubDep, staff: StaffReader
) -> IntakePublic:
    return await interviews.read_interview(session, hub_id, company_id, staff)
