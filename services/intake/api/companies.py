"""The company registry's routes: register (with the cohort decision), read, search by name or KvK
number, update with an audit trail, and read that trail (`use_cases.registration`)."""

from __future__ import annotations

from fastapi import APIRouter, Query, status
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.api.common import StaffReader, StaffWriter, ZoneDep
from services.intake.models import AuditEntryPublic, CompanyCreate, CompanyPublic, CompanyUpdate
from services.intake.use_cases import registration
from shared.service import ClockDep, HubDep, IdempotentDep, OutboxDep, ReadingDep, SettingsDep

router = APIRouter(tags=["companies"])


@router.post(
    "/companies",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyPublic,
    responses={409: {"description": "The KvK number is already registered; names that company."}},
)
async def register_company(
    new: CompanyCreate, staff: StaffWriter, write: IdempotentDep, settings: SettingsDep, clock: ClockDep,
    outbox: OutboxDep, zone: ZoneDep,
) -> CompanyPublic | Response:
    """Register a company with its contacts, decide its cohort status (admitted while its pool has
    a place, waitlisted when full, outside_cohort when not manufacturing) and publish
    `company-registered`.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the first answer.
    """

    async def register(session: AsyncSession) -> CompanyPublic:
        return await registration.register_company(
            session, new, hub_id=settings.hub_id, clock=clock, outbox=outbox, zone=zone,
            pool_regions=settings.intake_pool_regions, pool_sizes=settings.intake_pool_sizes, staff=staff,
        )

    try:
        return await write(register, subject=_registered_id)
    except (registration.AlreadyRegistered, IntegrityError):
        # A concurrent request may have committed since this one looked (PostgreSQL: the KvK race
        # ends in an IntegrityError). Asked again, the answer is the winner's own when it had this
        # Idempotency-Key, else a 409 naming the company it registered.
        return await write(register, subject=_registered_id)


def _registered_id(company: CompanyPublic) -> str:
    return company.id


@router.get("/companies/{company_id}", response_model=CompanyPublic)
async def read_company(
    company_id: str, session: ReadingDep, hub_id: HubDep, staff: StaffReader
) -> CompanyPublic:
    return await registration.read_company(session, hub_id, company_id, staff)


@router.get("/companies", response_model=list[CompanyPublic])
async def find_companies(
    session: ReadingDep,
    hub_id: HubDep,
    staff: StaffReader,
    kvk: str | None = Query(None, description="Only the company with this KvK number."),
    q: str | None = Query(
        None, min_length=1, max_length=200,
        description="Search: part of the legal name (any case), or a KvK number; not blank.",
    ),
    limit: int = Query(50, ge=1, le=500),
) -> list[CompanyPublic]:
    """Companies, newest first (an advisor's: those of its regions)."""
    return await registration.find_companies(session, hub_id, staff, kvk=kvk, q=q, limit=limit)


@router.patch("/companies/{company_id}", response_model=CompanyPublic)
async def update_company(
    company_id: str, change: CompanyUpdate, staff: StaffWriter, write: IdempotentDep, hub_id: HubDep,
    clock: ClockDep, zone: ZoneDep,
) -> CompanyPublic | Response:
    """Change a company's details; the audit log records who changed which field from what to what.
    Region and NACE code are not changed here: they decided the company's place in the cohort."""
    return await write(lambda session: registration.update_company(
        session, company_id, change, hub_id=hub_id, clock=clock, zone=zone, staff=staff))


@router.get("/companies/{company_id}/audit", response_model=list[AuditEntryPublic])
async def audit_trail(
    company_id: str, session: ReadingDep, hub_id: HubDep, staff: StaffReader
) -> list[AuditEntryPublic]:
    """Who changed what about this company, oldest first."""
    return await registration.audit_trail(session, hub_id, company_id, staff)
