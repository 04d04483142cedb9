"""The company registry: register (with the cohort decision), read, search by name or KvK number,
update with an audit trail, and read that trail."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, or_, select

from services.intake import domain, places
from services.intake.api.common import (
    StaffReader,
    StaffWriter,
    company_or_404,
    contacts_of,
    invalid,
    now_utc,
    public,
    write,
)
from services.intake.audit import audit
from services.intake.models import (
    AuditEntry,
    AuditEntryPublic,
    Company,
    CompanyCreate,
    CompanyPublic,
    CompanyUpdate,
    Contact,
)
from shared.contracts import derived_event_id
from shared.contracts.intake import CompanyRegistered
from shared.idempotency import run_idempotent
from shared.service import ContextDep, ServiceContext

router = APIRouter(tags=["companies"])


class AlreadyRegistered(Exception):
    def __init__(self, kvk_number: str, company_id: str) -> None:
        super().__init__(f"KvK number {kvk_number} is already registered as company {company_id}")
        self.company_id = company_id


@router.post(
    "/companies",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyPublic,
    responses={409: {"description": "The KvK number is already registered; names that company."}},
)
async def register_company(
    new: CompanyCreate, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Register a company with its contacts, decide its cohort status (admitted while its pool has
    a place, waitlisted when full, outside_cohort when not manufacturing) and publish
    `company-registered`.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the first answer.
    """

    if not staff.sees(new.region):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"an advisor registers companies of its own regions ({', '.join(staff.regions) or 'none'})",
        )
    check_foundation_year(ctx, new.foundation_year)

    async def work(session: AsyncSession) -> tuple[int, object]:
        existing = await _company_id_by_kvk(session, ctx.settings.hub_id, new.kvk_number)
        if existing is not None:
            raise AlreadyRegistered(new.kvk_number, existing)
        registered = await _register(ctx, session, new, staff.subject)
        return status.HTTP_201_CREATED, registered.model_dump(mode="json")

    try:
        try:
            response = await run_idempotent(ctx.db, ctx.clock, request, work, subject=_registered_id)
        except (AlreadyRegistered, IntegrityError):
            # A concurrent request may have committed since this one looked (PostgreSQL: the KvK
            # race ends in an IntegrityError). Asked again, the answer is the winner's own when it
            # had this Idempotency-Key, else a 409 naming the company it registered.
            response = await run_idempotent(ctx.db, ctx.clock, request, work, subject=_registered_id)
    except AlreadyRegistered as conflict:
        return JSONResponse(
            {"detail": str(conflict), "company_id": conflict.company_id},
            status_code=status.HTTP_409_CONFLICT,
        )
    ctx.relay.notify()
    return response


def check_foundation_year(ctx: ServiceContext, year: int | None) -> None:
    """422 for a foundation year after the current one (the hub's clock, in its timezone)."""
    if year is None:
        return
    try:
        domain.check_foundation_year(year, ctx.clock.now().astimezone(ctx.calendar.timezone).year)
    except ValueError as error:
        raise invalid(("body", "foundation_year"), str(error), year) from None


def _registered_id(body: dict[str, object]) -> str:
    return str(body["id"])


@router.get("/companies/{company_id}", response_model=CompanyPublic)
async def read_company(company_id: str, ctx: ContextDep, staff: StaffReader) -> CompanyPublic:
    async with ctx.db.reading() as session:
        company = await company_or_404(session, ctx, company_id, staff=staff)
        contacts = await contacts_of(session, [company.id])
    return public(company, contacts[company.id])


@router.get("/companies", response_model=list[CompanyPublic])
async def find_companies(
    ctx: ContextDep,
    staff: StaffReader,
    kvk: str | None = Query(None, description="Only the company with this KvK number."),
    q: str | None = Query(
        None, min_length=1, max_length=200,
        description="Search: part of the legal name (any case), or a KvK number; not blank.",
    ),
    limit: int = Query(50, ge=1, le=500),
) -> list[CompanyPublic]:
    """Companies, newest first (an advisor's: those of its regions)."""
    query = select(Company).where(Company.hub_id == ctx.settings.hub_id)
    if staff.role == "advisor":
        query = query.where(col(Company.region).in_(staff.regions))
    if kvk is not None:
        try:
            query = query.where(Company.kvk_number == domain.check_kvk_number(kvk))
        except ValueError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"kvk: {error}") from None
    if q is not None:
        term = q.strip().lower()
        if not term:
            raise invalid(("query", "q"), "cannot be blank; leave q out to list every company", q)
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(func.lower(Company.legal_name).like(f"%{escaped}%", escape="\\"), Company.kvk_number == term)
        )
    query = query.order_by(col(Company.created_at).desc(), col(Company.legal_name)).limit(limit)
    async with ctx.db.reading() as session:
        companies = (await session.execute(query)).scalars().all()
        contacts = await contacts_of(session, [c.id for c in companies])
    return [public(c, contacts[c.id]) for c in companies]


@router.patch("/companies/{company_id}", response_model=CompanyPublic)
async def update_company(
    company_id: str, change: CompanyUpdate, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Change a company's details; the audit log records who changed which field from what to what.
    Region and NACE code are not changed here: they decided the company's place in the cohort."""
    if "legal_name" in change.model_fields_set and change.legal_name is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "legal_name cannot be removed")
    check_foundation_year(ctx, change.foundation_year)

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        changes: dict[str, Any] = {}
        for field in sorted(change.model_fields_set):
            old, new = getattr(company, field), getattr(change, field)
            if old != new:
                changes[field] = {"from": old, "to": new}
                setattr(company, field, new)
        if changes:
            session.add(company)
            audit(session, ctx, staff.subject, company.id, "company-updated", changes)
        contacts = await contacts_of(session, [company.id])
        return status.HTTP_200_OK, public(company, contacts[company.id]).model_dump(mode="json")

    return await write(ctx, request, work)


@router.get("/companies/{company_id}/audit", response_model=list[AuditEntryPublic])
async def audit_trail(company_id: str, ctx: ContextDep, staff: StaffReader) -> list[AuditEntryPublic]:
    """Who changed what about this company, oldest first."""
    async with ctx.db.reading() as session:
        await company_or_404(session, ctx, company_id, staff=staff)
        query = select(AuditEntry).where(AuditEntry.company_id == company_id).order_by(col(AuditEntry.id))
        entries = (await session.execute(query)).scalars().all()
    return [AuditEntryPublic.model_validate(e) for e in entries]


async def _register(
    ctx: ServiceContext, session: AsyncSession, new: CompanyCreate, actor: str
) -> CompanyPublic:
    """Write the company (with its cohort place), its contacts and the event in one transaction."""
    now = now_utc(ctx)
    hub_id = ctx.settings.hub_id
    company = Company(
        **new.model_dump(exclude={"contacts"}), hub_id=hub_id, cohort_status="outside_cohort", created_at=now
    )
    await places.place_new_company(ctx, session, company)
    session.add(company)
    # Flushed first: the contacts' foreign key needs the row, and a KvK race surfaces here.
    await session.flush()
    contacts = [
        Contact(**c.model_dump(), company_id=company.id, hub_id=hub_id, position=i, created_at=now)
        for i, c in enumerate(new.contacts)
    ]
    session.add_all(contacts)
    audit(session, ctx, actor, company.id, "company-registered",
          {"cohort_status": company.cohort_status, "pool": company.pool})
    await ctx.outbox.add(
        session,
        "company-registered",
        CompanyRegistered(
            hub_id=hub_id, company_id=company.id, kvk_number=company.kvk_number,
            legal_name=company.legal_name, region=company.region, nace_code=company.nace_code,
            cohort_status=company.cohort_status,
        ),
        # A company is registered once, so its id names the fact for good.
        event_id=derived_event_id("company-registered", company.id),
    )
    return public(company, contacts)


async def _company_id_by_kvk(session: AsyncSession, hub_id: str, kvk_number: str) -> str | None:
    query = select(Company.id).where(Company.hub_id == hub_id, Company.kvk_number == kvk_number)
    return (await session.execute(query)).scalar_one_or_none()
