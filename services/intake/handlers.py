"""Intake's event handlers: exits the journey decided, applied to the cohort. `make_handlers` gives
the table (the contract's data model -> handler, bound to the service's context), `TOPICS` where they come
from.

Staff can end a journey in the journey service (withdraw it, or move it to `withdrawn`,
`not_eligible` or `referred_out`); it publishes every stage change as `journey-stage-changed`.
Intake applies such an exit to a company still in the programme (admitted or waitlisted, not yet
left) by the rules of its own exit endpoints: the place is freed as `cohort.exit_frees_place` says
(withdrawn or not eligible before the plan was agreed; referred out always) and goes to the first
waitlisted company of the pool (`company-admitted`). The exit is written on the company's audit
trail with the journey's actor and reason, but not published as `company-withdrawn` or
`company-not-eligible`: the journey made it, and would only hear its own echo. The other way round,
the journey's stage change that follows an exit intake made itself finds the company already gone
and changes nothing. Other stages (also `closed`: a company that completes keeps its place) and
companies outside the cohort are left alone.
"""

from __future__ import annotations

from typing import cast, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import places
from services.intake.api.common import company_of
from services.intake.cohort import Exit
from shared.contracts import CloudEvent
from shared.contracts.journey import JourneyStageChanged
from shared.inbox import HandlerTable, PermanentError
from shared.service import ServiceContext

TOPICS: list[str] = ["edih.journey.events"]
# The journey's end stages that are exits of the cohort: intake's exits, by the same names.
JOURNEY_EXITS: frozenset[str] = frozenset(get_args(Exit))


def make_handlers(ctx: ServiceContext) -> HandlerTable:
    """The handler table, bound to the service's context."""

    async def on_journey_stage_changed(
        session: AsyncSession, event: CloudEvent, data: JourneyStageChanged
    ) -> None:
        if data.to_stage not in JOURNEY_EXITS:
            return
        exit_ = cast(Exit, data.to_stage)
        company = await company_of(session, ctx, data.company_id, for_update=True)
        if company is None:
            raise PermanentError(f"no company {data.company_id} in hub {ctx.settings.hub_id}")
        if company.exit_status is not None or company.cohort_status == "outside_cohort":
            return  # already left (an echo of intake's own exit), or never in the cohort
        await places.leave(
            ctx, session, company, exit_, reason=data.reason, actor=data.actor, at=data.at,
            noted={"decided_in": "journey", "event_id": event.id},
        )

    return {JourneyStageChanged: on_journey_stage_changed}
