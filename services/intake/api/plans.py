"""Needs and plan: the proposal from the T0 assessment's weakest dimensions and the interview's
needs (from what is there: the interview may still be to come), and the plan the advisor edits and
agrees (`plan-agreed`, one item per planned service) once both the T0 and the interview are in."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from services.intake import plan as planning
from services.intake.api.assessments import assessments_of, exact_scores, has_assessment
from services.intake.api.common import (
    StaffReader,
    StaffWriter,
    company_or_404,
    intake_of,
    now_utc,
    require_in_programme,
    write,
)
from services.intake.audit import audit
from services.intake.models import new_id
from services.intake.records import Plan, PlanAgree, PlanItemOut, PlanPublic
from shared.contracts import derived_event_id
from shared.contracts.intake import PlanAgreed, PlanItem
from shared.service import ContextDep

router = APIRouter(tags=["plan"])


async def _plan(session: AsyncSession, company_id: str) -> Plan | None:
    return (await session.execute(select(Plan).where(Plan.company_id == company_id))).scalar_one_or_none()


def _agreed(plan: Plan) -> PlanPublic:
    return PlanPublic(id=plan.id, status="agreed", items=[PlanItemOut(**i) for i in plan.items],
                      agreed_by=plan.agreed_by, agreed_at=plan.agreed_at)


@router.get("/companies/{company_id}/plan", response_model=PlanPublic)
async def read_plan(company_id: str, ctx: ContextDep, staff: StaffReader) -> PlanPublic:
    """The agreed plan, or else the proposal (409 until the T0 assessment exists)."""
    async with ctx.db.reading() as session:
        await company_or_404(session, ctx, company_id, staff=staff)
        agreed = await _plan(session, company_id)
        if agreed is not None:
            return _agreed(agreed)
        t0 = (await assessments_of(session, company_id)).get("T0")
        intake = await intake_of(session, company_id)
    if t0 is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "a plan is proposed from the T0 assessment: none yet")
    proposal = planning.propose(exact_scores(t0).dimensions, t0.answers, intake.needs if intake else [])  # type: ignore[arg-type]
    return PlanPublic(id=None, status="proposed", items=[PlanItemOut(**vars(p)) for p in proposal])


@router.post("/companies/{company_id}/plan", status_code=201, response_model=PlanPublic)
async def agree_plan(
    company_id: str, body: PlanAgree, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Agree the plan as edited by the advisor (`plan-agreed`). It needs the T0 assessment and a
    completed intake interview (409 naming what is missing); 409 when one is already agreed."""

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        require_in_programme(company)
        if await _plan(session, company_id) is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, f"company {company_id} already has an agreed plan")
        missing = await _missing_for_agreement(session, company_id)
        if missing:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"company {company_id} cannot agree a plan yet: it needs {' and '.join(missing)}",
            )
        now = now_utc(ctx)
        items = [PlanItemOut(item_id=new_id(), **i.model_dump()) for i in body.items]
        plan = Plan(hub_id=company.hub_id, company_id=company_id, agreed_by=staff.subject, agreed_at=now,
                    items=[i.model_dump(mode="json") for i in items])
        company.plan_agreed_at = now
        session.add_all([plan, company])
        await session.flush()
        await ctx.outbox.add(
            session, "plan-agreed",
            PlanAgreed(hub_id=company.hub_id, company_id=company_id, plan_id=plan.id,
                       items=[PlanItem(**i.model_dump()) for i in items], agreed_by=staff.subject,
                       agreed_at=now),
            event_id=derived_event_id("plan-agreed", plan.id),
        )
        audit(session, ctx, staff.subject, company_id, "plan-agreed", {"items": plan.items})
        return 201, _agreed(plan).model_dump(mode="json")

    return await write(ctx, request, work)


async def _missing_for_agreement(session: AsyncSession, company_id: str) -> list[str]:
    """What an agreement still waits for: the T0 assessment and the held intake interview."""
    missing = []
    if not await has_assessment(session, company_id, "T0"):
        missing.append("the T0 assessment")
    intake = await intake_of(session, company_id)
    if intake is None or intake.outcome != "completed":
        missing.append("a completed intake interview")
    return missing
