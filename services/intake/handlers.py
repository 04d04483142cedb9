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

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.use_cases import exits
from shared.contracts import CloudEvent
from shared.contracts.journey import JourneyStageChanged
from shared.errors import NotFound
from shared.inbox import HandlerTable, PermanentError
from shared.service import ServiceContext

TOPICS: list[str] = ["edih.journey.events"]


def make_handlers(ctx: ServiceContext) -> HandlerTable:
    """The handler table, bound to the service's context."""

    async def on_journey_stage_changed(
        session: AsyncSession, event: CloudEvent, data: JourneyStageChanged
    ) -> None:
        try:
            await exits.apply_journey_exit(
                session, data, event.id, hub_id=ctx.settings.hub_id, clock=ctx.clock, outbox=ctx.outbox,
                pool_sizes=ctx.settings.intake_pool_sizes,
            )
        except NotFound as unknown:
            raise PermanentError(unknown.reason) from None

    return {JourneyStageChanged: on_journey_stage_changed}
