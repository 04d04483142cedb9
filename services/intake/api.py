"""Intake's HTTP routes: staff register and read companies (`router`); other services resolve a
recipient named by reference in an event (`internal`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.intake import domain
from services.intake.models import (
    Company,
    CompanyCreate,
    CompanyPublic,
    Contact,
    ContactPublic,
    RecipientPublic,
)
from shared.auth import require
from shared.contracts import derived_event_id
from shared.contracts.intake import CompanyRegistered
from shared.idempotency import run_idempotent
from shared.service import ContextDep, ServiceContext

router = APIRouter(tags=["companies"])
internal = APIRouter(prefix="/internal", tags=["internal"])

STAFF_WRITE = Depends(require("admin", "advisor"))
STAFF_READ = Depends(require("admin", "advisor", "viewer"))
SERVICE = Depends(require("service"))

RECIPIENT_KINDS = ("primary-contact",)


class AlreadyRegistered(Exception):
    def __init__(self, kvk_number: str, company_id: str) -> None:
        super().__init__(f"KvK number {kvk_number} is already registered as company {company_id}")
        self.company_id = company_id


@router.post(
    "/companies",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyPublic,
    dependencies=[STAFF_WRITE],
    responses={409: {"description": "The KvK number is already registered; names that company."}},
)
async def register_company(new: CompanyCreate, request: Request, ctx: ContextDep) -> JSONResponse:
    """Register a company with its contacts and publish `company-registered`.

    Send an `Idempotency-Key` header to make a retry safe: the same key returns the first answer.
    """

    async def work(session: AsyncSession) -> tuple[int, object]:
        existing = await _company_id_by_kvk(session, ctx.settings.hub_id, new.kvk_number)
        if existing is not None:
            raise AlreadyRegistered(new.kvk_number, existing)
        registered = await _register(ctx, session, new)
        return status.HTTP_201_CREATED, registered.model_dump(mode="json")

    try:
        try:
            response = await run_idempotent(ctx.db, ctx.clock, request, work)
        except (AlreadyRegistered, IntegrityError):
            # A concurrent request may have committed since this one looked (PostgreSQL: the KvK
            # race ends in an IntegrityError). Asked again, the answer is the winner's own when it
            # had this Idempotency-Key, else a 409 naming the company it registered.
            response = await run_idempotent(ctx.db, ctx.clock, request, work)
    except AlreadyRegistered as conflict:
        return _conflict(conflict)
    ctx.relay.notify()
    return response


@router.get("/companies/{company_id}", response_model=CompanyPublic, dependencies=[STAFF_READ])
async def read_company(company_id: str, ctx: ContextDep) -> CompanyPublic:
    async with ctx.db.reading() as session:
        company = await _company(session, ctx, company_id)
        contacts = await _contacts_of(session, [company.id])
    return _public(company, contacts[company.id])


@router.get("/companies", response_model=list[CompanyPublic], dependencies=[STAFF_READ])
async def find_companies(
    ctx: ContextDep,
    kvk: str | None = Query(None, description="Only the company with this KvK number."),
    limit: int = Query(50, ge=1, le=500),
) -> list[CompanyPublic]:
    """Companies, newest first."""
    query = select(Company).where(Company.hub_id == ctx.settings.hub_id)
    if kvk is not None:
        try:
            query = query.where(Company.kvk_number == domain.check_kvk_number(kvk))
        except ValueError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"kvk: {error}") from None
    query = query.order_by(col(Company.created_at).desc()).limit(limit)
    async with ctx.db.reading() as session:
        companies = (await session.execute(query)).scalars().all()
        contacts = await _contacts_of(session, [c.id for c in companies])
    return [_public(c, contacts[c.id]) for c in companies]


@internal.get(
    "/recipients/{kind}/{recipient_id}", response_model=RecipientPublic, dependencies=[SERVICE]
)
async def resolve_recipient(kind: str, recipient_id: str, ctx: ContextDep) -> RecipientPublic:
    """The name, e-mail and language of a recipient named in an event, e.g. a company's primary
    contact (`primary-contact` with the company id). Asked at send time, so changes apply."""
    if kind not in RECIPIENT_KINDS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown recipient kind {kind!r}; intake knows {', '.join(RECIPIENT_KINDS)}",
        )
    async with ctx.db.reading() as session:
        company = await _company(session, ctx, recipient_id)
        contacts = await _contacts_of(session, [company.id])
    primary = domain.primary_contact(contacts[company.id])
    if primary is None or primary.email is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"company {recipient_id} has no contact with an e-mail address"
        )
    return RecipientPublic(name=primary.name, email=primary.email, language=primary.language)


async def _register(ctx: ServiceContext, session: AsyncSession, new: CompanyCreate) -> CompanyPublic:
    """Write the company, its contacts and the event in the caller's transaction."""
    # In UTC, as the database gives it back: the answer to a POST and a later GET are the same.
    now = ctx.clock.now().astimezone(UTC)
    hub_id = ctx.settings.hub_id
    company = Company(
        hub_id=hub_id,
        kvk_number=new.kvk_number,
        legal_name=new.legal_name,
        region=new.region,
        nace_code=new.nace_code,
        cohort_status=domain.cohort_status_for(region=new.region, nace_code=new.nace_code),
        created_at=now,
    )
    session.add(company)
    # Flushed first: the contacts' foreign key needs the row, and a KvK race surfaces here.
    await session.flush()
    contacts = [
        Contact(**c.model_dump(), company_id=company.id, hub_id=hub_id, position=i, created_at=now)
        for i, c in enumerate(new.contacts)
    ]
    session.add_all(contacts)
    await ctx.outbox.add(
        session,
        "company-registered",
        CompanyRegistered(
            hub_id=hub_id,
            company_id=company.id,
            kvk_number=company.kvk_number,
            legal_name=company.legal_name,
            region=company.region,
            nace_code=company.nace_code,
            cohort_status=company.cohort_status,
        ),
        # A company is registered once, so its id names the fact for good.
        event_id=derived_event_id("company-registered", company.id),
    )
    return _public(company, contacts)


async def _company(session: AsyncSession, ctx: ServiceContext, company_id: str) -> Company:
    company = await session.get(Company, company_id)
    if company is None or company.hub_id != ctx.settings.hub_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no company with id {company_id}")
    return company


async def _company_id_by_kvk(session: AsyncSession, hub_id: str, kvk_number: str) -> str | None:
    query = select(Company.id).where(Company.hub_id == hub_id, Company.kvk_number == kvk_number)
    return (await session.execute(query)).scalar_one_or_none()


async def _contacts_of(
    session: AsyncSession, company_ids: Sequence[str]
) -> defaultdict[str, list[Contact]]:
    """The contacts of each of `company_ids`, in the order the client gave them."""
    by_company: defaultdict[str, list[Contact]] = defaultdict(list)
    if not company_ids:
        return by_company
    query = (
        select(Contact)
        .where(col(Contact.company_id).in_(company_ids))
        .order_by(col(Contact.position))
    )
    for contact in (await session.execute(query)).scalars():
        by_company[contact.company_id].append(contact)
    return by_company


def _public(company: Company, contacts: Sequence[Contact]) -> CompanyPublic:
    public_contacts = [ContactPublic.model_validate(c) for c in contacts]
    return CompanyPublic.model_validate(company, update={"contacts": public_contacts})


def _conflict(error: AlreadyRegistered) -> JSONResponse:
    return JSONResponse(
        {"detail": str(error), "company_id": error.company_id}, status_code=status.HTTP_409_CONFLICT
    )
