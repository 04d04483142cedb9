"""What intake's use cases share: loading a company of this hub (or NotFound), the guard that it
takes part in the programme (or Conflict), its contacts and interview, its public shape, and now
as the database gives it back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.intake.cohort import programme_problem
from services.intake.models import Company, CompanyPublic, Contact, ContactPublic
from services.intake.records import Intake
from shared.auth import Principal
from shared.clock import Clock
from shared.errors import Conflict, NotFound


def now_utc(clock: Clock) -> datetime:
    """Now, in UTC as the database gives it back: a POST's answer and a later GET agree."""
    return clock.now().astimezone(UTC)


async def company_of(
    session: AsyncSession, hub_id: str, company_id: str, *, for_update: bool = False
) -> Company | None:
    """The company of this hub with `company_id` (its row locked `for_update`), None when there is none."""
    query = select(Company).where(Company.id == company_id, Company.hub_id == hub_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def known_company(
    session: AsyncSession, hub_id: str, company_id: str, *, staff: Principal | None = None,
    for_update: bool = False,
) -> Company:
    """The company of this hub with `company_id`, else NotFound. For an advisor (`staff`), a
    company outside its regions reads as absent, as in the console."""
    company = await company_of(session, hub_id, company_id, for_update=for_update)
    if company is None or (staff is not None and not staff.sees(company.region)):
        raise NotFound(f"no company with id {company_id}")
    return company


def require_in_programme(company: Company) -> None:
    """Conflict unless the company holds a place and has not left."""
    problem = programme_problem(company)
    if problem == "left":
        raise Conflict(f"company {company.id} has left the programme ({company.exit_status})")
    if problem == "not_admitted":
        raise Conflict(f"company {company.id} is {company.cohort_status}, not admitted")


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


async def company_public(session: AsyncSession, company: Company) -> CompanyPublic:
    """The company as the API shows it, with its contacts."""
    return public(company, (await contacts_of(session, [company.id]))[company.id])
