"""What intake's routes share: the role dependencies, loading a company and its contacts, the
public shape of a company, the guard that a company is in the programme, a 422 in the shape of a
validation error, and the idempotent write. (`company_of` also serves the event handlers.)"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.intake.cohort import programme_problem
from services.intake.models import Company, CompanyPublic, Contact, ContactPublic
from services.intake.records import Intake
from shared.auth import Principal, require
from shared.idempotency import FROM_HEADER, Key, Subject, Work, run_idempotent
from shared.service import ServiceContext

StaffWriter = Annotated[Principal, Depends(require("admin", "advisor"))]
StaffReader = Annotated[Principal, Depends(require("admin", "advisor", "viewer"))]
SERVICE = Depends(require("service"))


def now_utc(ctx: ServiceContext) -> datetime:
    """Now, in UTC as the database gives it back: a POST's answer and a later GET agree."""
    return ctx.clock.now().astimezone(UTC)


async def company_of(
    session: AsyncSession, ctx: ServiceContext, company_id: str, *, for_update: bool = False
) -> Company | None:
    """The company of this hub with `company_id` (its row locked `for_update`), None when there is none."""
    query = select(Company).where(Company.id == company_id, Company.hub_id == ctx.settings.hub_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def company_or_404(
    session: AsyncSession, ctx: ServiceContext, company_id: str, *, staff: Principal | None = None,
    for_update: bool = False,
) -> Company:
    """The company of this hub with `company_id`. For an advisor (`staff`), a company outside its
    regions reads as absent, as in the console."""
    company = await company_of(session, ctx, company_id, for_update=for_update)
    if company is None or (staff is not None and not staff.sees(company.region)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no company with id {company_id}")
    return company


def require_in_programme(company: Company) -> None:
    """409 unless the company holds a place and has not left."""
    problem = programme_problem(company)
    if problem == "left":
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"company {company.id} has left the programme ({company.exit_status})"
        )
    if problem == "not_admitted":
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"company {company.id} is {company.cohort_status}, not admitted"
        )


async def contacts_of(session: AsyncSession, company_ids: Sequence[str]) -> defaultdict[str, list[Contact]]:
    """The contacts of each of `company_ids`, in the order the client gave them."""
    by_company: defaultdict[str, list[Contact]] = defaultdict(list)
    if not company_ids:
        return by_company
    query = select(Contact).where(col(Contact.company_id).in_(company_ids)).order_by(col(Contact.position))
    for contact in (await session.execute(query)).scalars():
        by_company[contact.company_id].append(contact)
    return by_company


async def intake_of(session: AsyncSession, company_id: str) -> Intake | None:
    query = select(Intake).where(Intake.company_id == company_id)
    return (await session.execute(query)).scalar_one_or_none()


def public(company: Company, contacts: Sequence[Contact]) -> CompanyPublic:
    public_contacts = [ContactPublic.model_validate(c) for c in contacts]
    return CompanyPublic.model_validate(company, update={"contacts": public_contacts})


def invalid(location: tuple[str, ...], message: str, given: object) -> RequestValidationError:
    """A 422 for a value only the service can judge (against its clock or its timezone), in the
    shape of the request validation errors: `message` reads "<field>: <message>"."""
    return RequestValidationError([{"type": "value_error", "loc": location, "msg": message, "input": given}])


async def write(
    ctx: ServiceContext, request: Request, work: Work, subject: Subject | None = None, *,
    key: Key = FROM_HEADER, payload: bytes | None = None,
) -> JSONResponse:
    """Run a write in one transaction (safe to retry with an `Idempotency-Key`, or the `key` and
    `payload` given for it; the stored answer is about `subject`'s company, by default the path's
    `company_id`), then wake the outbox relay for the events it recorded."""
    response = await run_idempotent(ctx.db, ctx.clock, request, work, subject=subject, key=key,
                                    payload=payload)
    ctx.relay.notify()
    return response
