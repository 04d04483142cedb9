"""The quota pools in the database: taking a place at registration, leaving (and freeing a place at
an exit), and admitting waitlisted companies, first come first, into every free place of a pool in
the same transaction; at start, into the places a pool gained in the settings.

Every change to a pool first locks its row in `quota_pools` (SELECT ... FOR UPDATE on PostgreSQL;
SQLite has one writer at a time), then counts the places taken: two concurrent registrations or
exits are serialised there and never take the same place twice. Counting the companies that hold a
place, rather than keeping a counter, leaves nothing that can drift.

Locks are always taken in one order: the company that leaves, then its pool, then the waitlisted
company admitted. A waitlisted company that withdraws takes no pool lock (it frees nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.intake import cohort
from services.intake.audit import SYSTEM, audit
from services.intake.models import Company, QuotaPool
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.intake import CohortStatus, CompanyAdmitted
from shared.db import insert_ignoring_duplicates
from shared.outbox import Outbox
from shared.service import ServiceContext

# The audit action of each exit, on the trail of the company that leaves.
EXIT_ACTIONS: dict[cohort.Exit, str] = {
    "withdrawn": "company-withdrawn",
    "not_eligible": "company-not-eligible",
    "referred_out": "company-referred-out",
}


async def lock_pool(session: AsyncSession, hub_id: str, pool: str) -> None:
    await insert_ignoring_duplicates(session, QuotaPool, {"hub_id": hub_id, "pool": pool}, ["hub_id", "pool"])
    query = select(QuotaPool).where(QuotaPool.hub_id == hub_id, QuotaPool.pool == pool).with_for_update()
    await session.execute(query)


async def places_taken(session: AsyncSession, hub_id: str, pool: str) -> int:
    query = select(func.count()).select_from(Company).where(
        Company.hub_id == hub_id, Company.pool == pool, col(Company.holds_place).is_(True)
    )
    return int(await session.scalar(query) or 0)


async def place_new_company(
    session: AsyncSession, company: Company, *, pool_regions: Mapping[str, Sequence[str]],
    pool_sizes: Mapping[str, int],
) -> CohortStatus:
    """Decide and set the cohort status of `company` (not yet flushed), taking a place if one is free."""
    hub_id = company.hub_id
    pool = cohort.pool_of(company.region, pool_regions)
    if pool is None or not cohort.is_manufacturing(company.nace_code):
        company.cohort_status = "outside_cohort"
        return company.cohort_status
    await lock_pool(session, hub_id, pool)
    taken = await places_taken(session, hub_id, pool)
    size = pool_sizes.get(pool, 0)
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
    session: AsyncSession, company: Company, exit_: cohort.Exit, *, reason: str, actor: str,
    clock: Clock, outbox: Outbox, pool_sizes: Mapping[str, int], at: datetime | None = None,
    noted: dict[str, Any] | None = None,
) -> Company | None:
    """Record that `company` (locked, not yet left) leaves, on its audit trail with `actor`, the
    `reason` and what else is `noted`. When that frees its place, admit the pool's first waitlisted
    company (`company-admitted`). Returns the company admitted, if any.

    The caller publishes the exit itself when intake decided it (an exit the journey decided is
    not published again)."""
    company.exit_status, company.exit_reason = exit_, reason
    company.exited_at = at or clock.now()
    session.add(company)
    admitted = None
    if company.holds_place and company.pool is not None and cohort.exit_frees_place(
        exit_, plan_agreed=company.plan_agreed_at is not None
    ):
        await lock_pool(session, company.hub_id, company.pool)
        company.holds_place = False
        await session.flush()
        first = await fill_from_waitlist(session, company.pool, company.hub_id, clock=clock,
                                         outbox=outbox, size=pool_sizes.get(company.pool, 0),
                                         freed_by=company.id)
        admitted = first[0] if first else None
    audit(session, clock, company.hub_id, actor, company.id, EXIT_ACTIONS[exit_],
          {"reason": reason, "admitted_from_waitlist": admitted.id if admitted else None, **(noted or {})})
    return admitted


async def fill_from_waitlist(
    session: AsyncSession, pool: str, hub_id: str, *, clock: Clock, outbox: Outbox, size: int,
    freed_by: str | None = None,
) -> list[Company]:
    """Admit waitlisted companies of `pool` (of `size` places), first come first, into every free
    place (pool locked). `freed_by` names the company whose exit freed the place, for the admitted
    company's trail."""
    admitted: list[Company] = []
    while await places_taken(session, hub_id, pool) < size:
        first = await _first_waitlisted(session, hub_id, pool)
        if first is None:
            break
        await _admit(session, first, pool, clock, outbox, freed_by)
        admitted.append(first)
    return admitted


async def fill_pools(ctx: ServiceContext) -> list[Company]:
    """Admit waitlisted companies into the free places of every pool: at start, when a pool has
    grown in the settings since the companies were put on its waitlist."""
    admitted: list[Company] = []
    hub_id = ctx.settings.hub_id
    for pool, size in ctx.settings.intake_pool_sizes.items():
        async with ctx.db.transaction() as session:
            await lock_pool(session, hub_id, pool)
            admitted += await fill_from_waitlist(session, pool, hub_id, clock=ctx.clock,
                                                 outbox=ctx.outbox, size=size)
    if admitted:
        ctx.relay.notify()
    return admitted


async def _first_waitlisted(session: AsyncSession, hub_id: str, pool: str) -> Company | None:
    """The first company on `pool`'s waitlist, its row locked, or None when nobody waits.

    Locked, so that a withdrawal of that very company cannot cross its admission, and waiting for
    the lock rather than skipping locked rows: a company whose row is only briefly locked (staff
    editing its details) keeps its turn. On PostgreSQL a row whose lock this waited for is checked
    again once granted, and dropped when it no longer matches (the company withdrew); whether the
    statement then goes on to the next row or answers nothing depends on its plan. So an empty
    answer is checked against the committed waitlist without locks, and the lock is tried again
    while someone waits: every retry follows a committed change to the waitlist, so the loop ends.
    """
    waiting = (
        Company.hub_id == hub_id, Company.pool == pool, Company.cohort_status == "waitlisted",
        col(Company.exit_status).is_(None),
    )
    first_in_line = select(Company).where(*waiting).order_by(col(Company.waitlist_position)).limit(1)
    locked = first_in_line.with_for_update().execution_options(populate_existing=True)
    while True:
        first = (await session.execute(locked)).scalar_one_or_none()
        if first is not None:
            return first
        if await session.scalar(select(Company.id).where(*waiting).limit(1)) is None:
            return None


async def _admit(
    session: AsyncSession, first: Company, pool: str, clock: Clock, outbox: Outbox, freed_by: str | None
) -> None:
    first.cohort_status = "admitted"
    first.holds_place = True
    session.add(first)
    await outbox.add(
        session, "company-admitted", CompanyAdmitted(hub_id=first.hub_id, company_id=first.id, pool=pool),
        event_id=derived_event_id("company-admitted", first.id),
    )
    audit(session, clock, first.hub_id, SYSTEM, first.id, "admitted-from-waitlist",
          {"pool": pool, "waitlist_position": first.waitlist_position, "place_freed_by": freed_by})
    await session.flush()
