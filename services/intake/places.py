"""The quota pools in the database: taking a place at registration, freeing one at an exit, and
admitting the first waitlisted company of the pool in the same transaction.

Every change to a pool first locks its row in `quota_pools` (SELECT ... FOR UPDATE on PostgreSQL;
SQLite has one writer at a time), then counts the places taken: two concurrent registrations are
serialised there and never take the same last place. Counting the companies that hold a place,
rather than keeping a counter, leaves nothing that can drift.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.intake import cohort
from services.intake.models import Company, QuotaPool
from shared.contracts import derived_event_id
from shared.contracts.intake import CohortStatus, CompanyAdmitted
from shared.db import insert_ignoring_duplicates
from shared.service import ServiceContext


async def lock_pool(session: AsyncSession, hub_id: str, pool: str) -> None:
    await insert_ignoring_duplicates(session, QuotaPool, {"hub_id": hub_id, "pool": pool}, ["hub_id", "pool"])
    query = select(QuotaPool).where(QuotaPool.hub_id == hub_id, QuotaPool.pool == pool).with_for_update()
    await session.execute(query)


async def places_taken(session: AsyncSession, hub_id: str, pool: str) -> int:
    query = select(func.count()).select_from(Company).where(
        Company.hub_id == hub_id, Company.pool == pool, col(Company.holds_place).is_(True)
    )
    return int(await session.scalar(query) or 0)


async def place_new_company(ctx: ServiceContext, session: AsyncSession, company: Company) -> CohortStatus:
    """Decide and set the cohort status of `company` (not yet flushed), taking a place if one is free."""
    hub_id = ctx.settings.hub_id
    pool = cohort.pool_of(company.region, ctx.settings.intake_pool_regions)
    if pool is None or not cohort.is_manufacturing(company.nace_code):
        company.cohort_status = "outside_cohort"
        return company.cohort_status
    await lock_pool(session, hub_id, pool)
    # Places that are free while companies wait (the pool grew in the settings) go to them first.
    await fill_from_waitlist(ctx, session, pool)
    taken = await places_taken(session, hub_id, pool)
    size = ctx.settings.intake_pool_sizes.get(pool, 0)
    company.pool = pool
    company.cohort_status = cohort.status_for(nace_code=company.nace_code, pool=pool, taken=taken, size=size)
    if company.cohort_status == "admitted":
        company.holds_place = True
    else:
        last = await session.scalar(
            select(func.max(Company.waitlist_position)).where(Company.hub_id == hub_id, Company.pool == pool)
        )
        company.waitlist_position = (last or 0) + 1
    return company.cohort_status


async def leave(
    ctx: ServiceContext, session: AsyncSession, company: Company, exit_: cohort.Exit
) -> Company | None:
    """Record that `company` leaves; when that frees its place, admit the pool's first waitlisted
    company and publish `company-admitted`. Returns the company admitted, if any."""
    company.exit_status = exit_
    company.exited_at = ctx.clock.now()
    if not company.holds_place or company.pool is None:
        return None
    await lock_pool(session, company.hub_id, company.pool)
    if not cohort.exit_frees_place(exit_, plan_agreed=company.plan_agreed_at is not None):
        return None
    company.holds_place = False
    await session.flush()
    admitted = await fill_from_waitlist(ctx, session, company.pool)
    return admitted[0] if admitted else None


async def fill_from_waitlist(ctx: ServiceContext, session: AsyncSession, pool: str) -> list[Company]:
    """Admit waitlisted companies of `pool`, first come first, while it has free places (pool locked)."""
    admitted: list[Company] = []
    size = ctx.settings.intake_pool_sizes.get(pool, 0)
    while await places_taken(session, ctx.settings.hub_id, pool) < size:
        first = await _first_waitlisted(session, ctx.settings.hub_id, pool)
        if first is None:
            break
        await _admit(ctx, session, first, pool)
        admitted.append(first)
    return admitted


async def _first_waitlisted(session: AsyncSession, hub_id: str, pool: str) -> Company | None:
    query = (
        select(Company)
        .where(Company.hub_id == hub_id, Company.pool == pool, Company.cohort_status == "waitlisted",
               col(Company.exit_status).is_(None))
        .order_by(col(Company.waitlist_position))
        .limit(1)
        # Locked, so a withdrawal of that very company cannot cross this admission.
        .with_for_update()
    )
    # Locked rows that changed meanwhile (a waitlisted company withdrew) are skipped, and PostgreSQL
    # may then return no row under LIMIT: a second statement sees the newest state.
    for _ in range(2):
        first = (await session.execute(query)).scalar_one_or_none()
        if first is not None:
            return first
    return None


async def _admit(ctx: ServiceContext, session: AsyncSession, first: Company, pool: str) -> None:
    hub_id = ctx.settings.hub_id
    first.cohort_status = "admitted"
    first.holds_place = True
    session.add(first)
    await ctx.outbox.add(
        session, "company-admitted", CompanyAdmitted(hub_id=hub_id, company_id=first.id, pool=pool),
        event_id=derived_event_id("company-admitted", first.id),
    )
    await session.flush()
