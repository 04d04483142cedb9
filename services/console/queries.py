"""What the console reads, without HTTP: the companies a staff member may see, one company with its
timeline, and the staff member who receives a message of a kind. Each takes a session and the
caller and raises `shared.errors.NotFound` for what is absent (or, for an advisor, outside its
regions: such a company reads as absent, not as forbidden); pages and the JSON API call them alike."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.console.auth import first_administrator, staff_by_id, staff_for_region
from services.console.models import CompanyView, StaffAccount, TimelineEntry
from shared.auth import Principal
from shared.errors import NotFound

RECIPIENT_KINDS = ("advisor", "region-staff", "administrators")


async def companies_seen_by(session: AsyncSession, staff: Principal) -> list[CompanyView]:
    """The companies of the read model the staff member may see, newest registration first."""
    query = select(CompanyView).order_by(
        col(CompanyView.registered_at).desc().nulls_last(), col(CompanyView.company_id)
    )
    if staff.role == "advisor":
        query = query.where(col(CompanyView.region).in_(staff.regions))
    return list((await session.execute(query)).scalars().all())


async def company_with_timeline(
    session: AsyncSession, who: Principal, company_id: str
) -> tuple[CompanyView, list[TimelineEntry]]:
    """The company and its timeline, newest first."""
    view = await session.get(CompanyView, company_id)
    if view is None or not who.sees(view.region):
        raise NotFound(f"no company {company_id}")
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.company_id == company_id)
        .order_by(col(TimelineEntry.at).desc(), col(TimelineEntry.id).desc())
    )
    return view, list((await session.execute(query)).scalars().all())


async def recipient(session: AsyncSession, kind: str, key: str, *, hub_id: str) -> StaffAccount:
    """The staff account a message of `kind` goes to: `advisor` by staff id, `region-staff` by
    region (its first advisor, else the first administrator), `administrators` by hub id (the
    hub's first administrator)."""
    if kind == "advisor":
        account = await staff_by_id(session, key)
    elif kind == "region-staff":
        account = await staff_for_region(session, key)
    elif kind == "administrators":
        account = await first_administrator(session) if key == hub_id else None
    else:
        raise NotFound(f"no recipient kind {kind!r}; the console knows {', '.join(RECIPIENT_KINDS[:-1])}, "
                       f"{RECIPIENT_KINDS[-1]}")
    if account is None:
        raise NotFound(f"no staff account for {kind} {key!r}")
    return account
