"""Leaving the programme: the company withdraws, or staff find it not eligible (published as
`company-withdrawn` / `company-not-eligible`), or the journey service ended its journey (applied,
not published again; see `handlers`). A place freed this way goes to the first waitlisted company
of its pool, in the same transaction (`places.leave`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import places
from services.intake.cohort import Exit
from services.intake.models import CompanyPublic
from services.intake.use_cases.common import company_of, company_public, known_company
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.intake import CompanyNotEligible, CompanyWithdrawn
from shared.contracts.journey import JourneyStageChanged
from shared.errors import Conflict, NotFound
from shared.outbox import Outbox

# The journey's end stages that are exits of the cohort: intake's exits, by the same names.
JOURNEY_EXITS: frozenset[str] = frozenset(get_args(Exit))


async def leave_programme(
    session: AsyncSession, company_id: str, exit_: Exit, reason: str, *, hub_id: str, clock: Clock,
    outbox: Outbox, pool_sizes: Mapping[str, int], staff: Principal,
) -> CompanyPublic:
    """The company withdraws, or staff find it not eligible; Conflict when it has already left."""
    company = await known_company(session, hub_id, company_id, staff=staff, for_update=True)
    if company.exit_status is not None:
        raise Conflict(f"company {company_id} has already left ({company.exit_status})")
    actor = staff.subject
    await places.leave(session, company, exit_, reason=reason, actor=actor, clock=clock, outbox=outbox,
                       pool_sizes=pool_sizes)
    data: CompanyWithdrawn | CompanyNotEligible
    if exit_ == "withdrawn":
        data = CompanyWithdrawn(hub_id=hub_id, company_id=company.id, reason=reason, actor=actor)
    else:
        data = CompanyNotEligible(hub_id=hub_id, company_id=company.id, reason=reason, actor=actor)
    name = places.EXIT_ACTIONS[exit_]
    await outbox.add(session, name, data, event_id=derived_event_id(name, company.id))
    return await company_public(session, company)


async def apply_journey_exit(
    session: AsyncSession, change: JourneyStageChanged, event_id: str, *, hub_id: str, clock: Clock,
    outbox: Outbox, pool_sizes: Mapping[str, int],
) -> None:
    """Apply a journey's move to an exit stage to a company still in the programme; NotFound when
    this hub has no such company. Another stage, a company that has left already (an echo of
    intake's own exit) or was never in the cohort: nothing changes."""
    if change.to_stage not in JOURNEY_EXITS:
        return
    company = await company_of(session, hub_id, change.company_id, for_update=True)
    if company is None:
        raise NotFound(f"no company {change.company_id} in hub {hub_id}")
    if company.exit_status is not None or company.cohort_status == "outside_cohort":
        return
    await places.leave(
        session, company, cast(Exit, change.to_stage), reason=change.reason, actor=change.actor,
        clock=clock, outbox=outbox, pool_sizes=pool_sizes, at=change.at,
        noted={"decided_in": "journey", "event_id": event_id},
    )
