"""Leaving the programme: the company withdraws, or staff find it not eligible. A place freed this
way (before the plan was agreed) goes to the first waitlisted company of its pool, in the same
transaction."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import places
from services.intake.api.common import StaffWriter, company_or_404, contacts_of, public, write
from services.intake.cohort import Exit
from services.intake.models import CompanyPublic
from services.intake.records import ExitRequest
from shared.auth import Principal
from shared.contracts import derived_event_id
from shared.contracts.intake import CompanyNotEligible, CompanyWithdrawn
from shared.service import ContextDep

router = APIRouter(tags=["exits"])


@router.post("/companies/{company_id}/withdrawal", response_model=CompanyPublic)
async def withdraw(
    company_id: str, body: ExitRequest, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """The company withdraws (`company-withdrawn`); 409 when it has already left."""
    return await _leave(company_id, "withdrawn", body.reason, request, ctx, staff)


@router.post("/companies/{company_id}/not-eligible", response_model=CompanyPublic)
async def not_eligible(
    company_id: str, body: ExitRequest, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Staff find the company not eligible, with a reason (`company-not-eligible`)."""
    return await _leave(company_id, "not_eligible", body.reason, request, ctx, staff)


async def _leave(
    company_id: str, exit_: Exit, reason: str, request: Request, ctx: ContextDep, staff: Principal
) -> JSONResponse:
    actor = staff.subject

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        if company.exit_status is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"company {company_id} has already left ({company.exit_status})"
            )
        await places.leave(ctx, session, company, exit_, reason=reason, actor=actor)
        hub_id = ctx.settings.hub_id
        if exit_ == "withdrawn":
            data: CompanyWithdrawn | CompanyNotEligible = CompanyWithdrawn(
                hub_id=hub_id, company_id=company.id, reason=reason, actor=actor
            )
        else:
            data = CompanyNotEligible(hub_id=hub_id, company_id=company.id, reason=reason, actor=actor)
        name = places.EXIT_ACTIONS[exit_]
        await ctx.outbox.add(session, name, data, event_id=derived_event_id(name, company.id))
        contacts = await contacts_of(session, [company.id])
        return status.HTTP_200_OK, public(company, contacts[company.id]).model_dump(mode="json")

    return await write(ctx, request, work)
