"""The plan's routes: read the agreed plan or the proposal, and agree it (`use_cases.plans`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.intake.api.common import StaffReader, StaffWriter
from services.intake.records import PlanAgree, PlanPublic
from services.intake.use_cases import plans
from shared.service import ClockDep, HubDep, IdempotentDep, OutboxDep, ReadingDep

router = APIRouter(tags=["plan"])


@router.get("/companies/{company_id}/plan", response_model=PlanPublic)
async def read_plan(company_id: str, session: ReadingDep, hub_id: HubDep, staff: StaffReader) -> PlanPublic:
    """The agreed plan, or else the proposal (409 until the T0 assessment exists)."""
    return await plans.read_plan(session, hub_id, company_id, staff)


@router.post("/companies/{company_id}/plan", status_code=201, response_model=PlanPublic)
async def agree_plan(
    company_id: str, body: PlanAgree, staff: StaffWriter, write: IdempotentDep, hub_id: HubDep,
    clock: ClockDep, outbox: OutboxDep,
) -> PlanPublic | Response:
    """Agree the plan as edited by the advisor (`plan-agreed`). It needs the T0 assessment and a
    completed intake interview (409 naming what is missing); 409 when one is already agreed."""
    return await write(lambda session: plans.agree_plan(
        session, company_id, body, hub_id=hub_id, clock=clock, outbox=outbox, staff=staff))
