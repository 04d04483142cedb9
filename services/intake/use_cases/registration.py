"""The company registry: register a company (with the cohort decision), read and search it,
change its details with an audit trail, and read that trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, or_, select

from services.intake import domain, places
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
from services.intake.use_cases.common import company_public, contacts_of, known_company, now_utc, public
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.intake import CompanyRegistered
from shared.errors import Conflict, Forbidden, Invalid
from shared.outbox import Outbox


class AlreadyRegistered(Conflict):
    """The KvK number is registered already: the answer names that company."""

    def __init__(self, kvk_number: str, company_id: str) -> None:
        super().__init__(f"KvK number {kvk_number} is already registered as company {company_id}",
                         about={"company_id": company_id})


def check_foundation_year(year: int | None, clock: Clock, zone: ZoneInfo) -> None:
    """Invalid for a foundation year after the current one (the hub's clock, in its timezone)."""
    if year is None:
        return
    try:
        domain.check_foundation_year(year, clock.now().astimezone(zone).year)
    except ValueError as error:
        raise Invalid(f"foundation_year: {error}") from None


async def register_company(
    session: AsyncSession, new: CompanyCreate, *, hub_id: str, clock: Clock, outbox: Outbox,
    zone: ZoneInfo, pool_regions: Mapping[str, Sequence[str]], pool_sizes: Mapping[str, int],
    staff: Principal,
) -> CompanyPublic:
    """Write the company (with its cohort place), its contacts, the audit entry and
    `company-registered`; AlreadyRegistered for a KvK number this hub has."""
    if not staff.sees(new.region):
        raise Forbidden(
            f"an advisor registers companies of its own regions ({', '.join(staff.regions) or 'none'})"
        )
    check_foundation_year(new.foundation_year, clock, zone)
    query = select(Company.id).where(Company.hub_id == hub_id, Company.kvk_number == new.kvk_number)
    existing = (await session.execute(query)).scalar_one_or_none()
    if existing is not None:
        raise AlreadyRegistered(new.kvk_number, existing)
    now = now_utc(clock)
    company = Company(
        **new.model_dump(exclude={"contacts"}), hub_id=hub_id, cohort_status="outside_cohort", created_at=now
    )
    await places.place_new_company(session, company, pool_regions=pool_regions, pool_sizes=pool_sizes)
    session.add(company)
    # Flushed first: the contacts' foreign key needs the row, and a KvK race surfaces here.
    await session.flush()
    contacts = [
        Contact(**c.model_dump(), company_id=company.id, hub_id=hub_id, position=i, created_at=now)
        for i, c in enumerate(new.contacts)
    ]
    session.add_all(contacts)
    audit(session, clock, hub_id, staff.subject, company.id, "company-registered",
          {"cohort_status": company.cohort_status, "pool": company.pool})
    await outbox.add(
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


async def read_company(
    session: AsyncSession, hub_id: str, company_id: str, staff: Principal
) -> CompanyPublic:
    return await company_public(session, await known_company(session, hub_id, company_id, staff=staff))


async def find_companies(
    session: AsyncSession, hub_id: str, staff: Principal, *, kvk: str | None, q: str | None, limit: int
) -> list[CompanyPublic]:
    """Companies, newest first (an advisor's: those of its regions), with this KvK number or whose
    legal name has `q` (any case) or whose KvK number is `q`."""
    query = select(Company).where(Company.hub_id == hub_id)
    if staff.role == "advisor":
        query = query.where(col(Company.region).in_(staff.regions))
    if kvk is not None:
        try:
            query = query.where(Company.kvk_number == domain.check_kvk_number(kvk))
        except ValueError as error:
            raise Invalid(f"kvk: {error}") from None
    if q is not None:
        term = q.strip().lower()
        if not term:
            raise Invalid("query.q: cannot be blank; leave q out to list every company")
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(func.lower(Company.legal_name).like(f"%{escaped}%", escape="\\"), Company.kvk_number == term)
        )
    query = query.order_by(col(Company.created_at).desc(), col(Company.legal_name)).limit(limit)
    companies = (await session.execute(query)).scalars().all()
    contacts = await contacts_of(session, [c.id for c in companies])
    return [public(c, contacts[c.id]) for c in companies]


async def update_company(
    session: AsyncSession, company_id: str, change: CompanyUpdate, *, hub_id: str, clock: Clock,
    zone: ZoneInfo, staff: Principal,
) -> CompanyPublic:
    """Change a company's details; the audit log records who changed which field from what to what."""
    if "legal_name" in change.model_fields_set and change.legal_name is None:
        raise Invalid("legal_name cannot be removed")
    check_foundation_year(change.foundation_year, clock, zone)
    company = await known_company(session, hub_id, company_id, staff=staff, for_update=True)
    changes: dict[str, Any] = {}
    for field in sorted(change.model_fields_set):
        old, new = getattr(company, field), getattr(change, field)
        if old != new:
            changes[field] = {"from": old, "to": new}
            setattr(company, field, new)
    if changes:
        session.add(company)
        audit(session, clock, hub_id, staff.subject, company.id, "company-updated", changes)
    return await company_public(session, company)


async def audit_trail(
    session: AsyncSession, hub_id: str, company_id: str, staff: Principal
) -> list[AuditEntryPublic]:
    """Who changed what about this company, oldest first."""
    await known_company(session, hub_id, company_id, staff=staff)
    query = select(AuditEntry).where(AuditEntry.company_id == company_id).order_by(col(AuditEntry.id))
    return [AuditEntryPublic.model_validate(e) for e in (await session.execute(query)).scalars()]
