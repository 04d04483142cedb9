"""Leaving the programme's routes: the company withdraws, or staff find it not eligible
(`use_cases.exits`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.intake.api.common import StaffWriter
from services.intake.cohort import Exit
from services.intake.models import CompanyPublic
from services.intake.records import ExitRequest
from services.intake.use_cases import exits
from shared.auth import Principal
from shared.clock import Clock
from shared.outbox import Outbox
from shared.service import ClockDep, IdempotentDep, IdempotentWrite, OutboxDep, SettingsDep
from shared.settings import Settings

router = APIRouter(tags=["exits"])


@router.post("/companies/{company_id}/withdrawal", response_model=CompanyPublic)
async def withdraw(
    company_id: str, body: ExitRequest, staff: StaffWriter, write: IdempotentDep, settings: SettingsDep,
    clock: ClockDep, outbox: OutboxDep,
) -> CompanyPublic | Response:
    """The company withdraws (`company-withdrawn`); 409 when it has already left."""
    return await _leave(write, company_id, "withdrawn", body, settings, clock, outbox, staff)


@router.post("/companies/{company_id}/not-eligible", response_model=CompanyPublic)
async def not_eligible(
    company_id: str, body: ExitRequest, staff: StaffWriter, write: IdempotentDep, settings: SettingsDep,
    clock: ClockDep, outbox: OutboxDep,
) -> CompanyPublic | Response:
    """Staff find the company not eligible, with a reason (`company-not-eligible`)."""
    return await _leave(write, company_id, "not_eligible", body, settings, clock, outbox, staff)


async def _leave(
    write: IdempotentWrite, company_id: str, exit_: Exit, body: ExitRequest, settings: Settings,
    clock: Clock, outbox: Outbox, staff: Principal,
) -> CompanyPublic | Response:
    return await write(lambda session: exits.leave_programme(
        session, company_id, exit_, body.reason, hub_id=settings.hub_id, clock=clock, outbox=outbox,
        pool_sizes=settings.intake_pool_sizes, staff=staff))
