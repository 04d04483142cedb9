"""Needs and plan: the proposal from the T0 assessment's weakest dimensions and the interview's
needs (from what is there: the interview may still be to come), and the plan the advisor edits and
agrees (`plan-agreed`, one item per planned service) once both the T0 and the interview are in."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from services.intake import plan as planning
from services.intake.audit import audit
from services.intake.models import new_id
from services.intake.records import Plan, PlanAgree, PlanItemOut, PlanPublic
from services.intake.use_cases.assessments import assessments_of, exact_scores, has_assessment
from services.intake.use_cases.common import intake_of, known_company, now_utc, require_in_programme
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.intake import PlanAgreed, PlanItem
from shared.errors import Conflict
from shared.outbox import Outbox


async def _plan(session: AsyncSession, company_id: str) -> Plan | None:
    return (await session.execute(select(Plan).where(Plan.company_id == company_id))).scalar_one_or_none()


def _agreed(plan: Plan) -> PlanPublic:
    return PlanPublic(id=plan.id, status="agreed", items=[PlanItemOut(**i) for i in plan.items],
                      agreed_by=plan.agreed_by, agreed_at=plan.agreed_at)


async def read_plan(session: AsyncSession, hub_id: str, company_id: str, staff: Principal) -> PlanPublic:
    """The agreed plan, or else the proposal (Conflict until the T0 assessment exists)."""
    await known_company(session, hub_id, company_id, staff=staff)
    agreed = await _plan(session, company_id)
    if agreed is not None:
        return _agreed(agreed)
    t0 = (await assessments_of(session, company_id)).get("T0")
    if t0 is None:
        raise Conflict("a plan is proposed from the T0 assessment: none yet")
    intake = await intake_of(session, company_id)
    proposal = planning.propose(exact_scores(t0).dimensions, t0.answers, intake.needs if intake else [])  # type: ignore[arg-type]
    return PlanPublic(id=None, status="proposed", items=[PlanItemOut(**vars(p)) for p in proposal])


async def agree_plan(
    session: AsyncSession, company_id: str, agreement: PlanAgree, *, hub_id: str, clock: Clock,
    outbox: Outbox, staff: Principal,
) -> PlanPublic:
    """Agree the plan as edited by the advisor (`plan-agreed`). It needs the T0 assessment and a
    completed intake interview (Conflict naming what is missing); Conflict when one is agreed."""
    company = await known_company(session, hub_id, company_id, staff=staff, for_update=True)
    require_in_programme(company)
    if await _plan(session, company_id) is not None:
        raise Conflict(f"company {company_id} already has an agreed plan")
    missing = await _missing_for_agreement(session, company_id)
    if missing:
        raise Conflict(f"company {company_id} cannot agree a plan yet: it needs {' and '.join(missing)}")
    now = now_utc(clock)
    items = [PlanItemOut(item_id=new_id(), **i.model_dump()) for i in agreement.items]
    plan = Plan(hub_id=company.hub_id, company_id=company_id, agreed_by=staff.subject, agreed_at=now,
                items=[i.model_dump(mode="json") for i in items])
    company.plan_agreed_at = now
    session.add_all([plan, company])
    await session.flush()
    await outbox.add(
        session, "plan-agreed",
        PlanAgreed(hub_id=company.hub_id, company_id=company_id, plan_id=plan.id,
                   items=[PlanItem(**i.model_dump()) for i in items], agreed_by=staff.subject,
                   agreed_at=now),
        event_id=derived_event_id("plan-agreed", plan.id),
    )
    audit(session, clock, hub_id, staff.subject, company_id, "plan-agreed", {"items": plan.items})
    return _agreed(plan)


async def _missing_for_agreement(session: AsyncSession, company_id: str) -> list[str]:
    """What an agreement still waits for: the T0 assessment and the held intake interview."""
    missing = []
    if not await has_assessment(session, company_id, "T0"):
        missing.append("the T0 assessment")
    intake = await intake_of(session, company_id)
    if intake is None or intake.outcome != "completed":
        missing.append("a completed intake interview")
    return missing
