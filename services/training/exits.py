"""Closing open work: the journey withdraws a training need (`service-cancellation-requested`), or
the company leaves the programme (`journey-stage-changed` to withdrawn, not_eligible, referred_out
or closed). A need already delivered is answered `service-completed`, any other open one
`service-cancelled`; the company's enrolments in sessions still to come are cancelled with the
reason, their seats going to the waitlists."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from services.training import companies, enrolments, needs
from services.training.context import Training
from services.training.models import Need
from shared.clock import Clock
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.services import ServiceCancellationRequested, ServiceRequested


async def cancellation_requested(
    command: ServiceCancellationRequested,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
) -> Need:
    """Close the need of the plan item (opened now if its request never came) and cancel the
    company's open enrolments in its course; answer how it ended."""
    await companies.seen(session, hub_id, command.company_id, clock.now())
    need = await needs.need_of(session, hub_id, command.plan_item_id, for_update=True)
    if need is None:
        need = await needs.open_need(_as_request(command), session, hub_id, clock, training)
    await _close(session, hub_id, clock, training, need, f"cancelled by staff: {command.reason}")
    return need


def _as_request(command: ServiceCancellationRequested) -> ServiceRequested:
    """The request a cancellation implies when it came first (a command may wait in the topic)."""
    return ServiceRequested(
        hub_id=command.hub_id,
        company_id=command.company_id,
        plan_item_id=command.plan_item_id,
        kind="training",
        title="(not requested)",
    )


async def company_left(
    command: JourneyStageChanged, session: AsyncSession, hub_id: str, clock: Clock, training: Training
) -> None:
    """The company left the programme: it enrols no more; close its open needs and enrolments."""
    company = await companies.seen(session, hub_id, command.company_id, clock.now())
    if company.left_at_stage is not None:
        return
    company.left_at_stage = command.to_stage
    session.add(company)
    reason = f"the company left the programme ({command.to_stage})"
    query = select(Need).where(Need.hub_id == hub_id, Need.company_id == company.id, Need.status == "open")
    for need in (await session.execute(query.with_for_update())).scalars().all():
        await _close(session, hub_id, clock, training, need, reason)
    await enrolments.cancel_open(session, hub_id, clock, training, company_id=company.id, reason=reason)


async def _close(
    session: AsyncSession, hub_id: str, clock: Clock, training: Training, need: Need, reason: str
) -> None:
    if need.status != "open":
        await needs.answer(session, training, need)  # asked again: the same answer
        return
    if await needs.delivered(session, clock, training, need):
        return
    await needs.cancel(session, training, need, reason)
    if need.course_id is not None:
        await enrolments.cancel_open(
            session,
            hub_id,
            clock,
            training,
            company_id=need.company_id,
            reason=reason,
            course_id=need.course_id,
        )
