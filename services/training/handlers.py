"""Training's event handlers: the journey's commands (`service-requested`,
`service-cancellation-requested`), intake's facts (the company's region and name, its T0 scores,
erasure of its contacts) and the journey's exits. `make_handlers` gives the table (the contract's data
model -> handler, bound to the service's context), `TOPICS` where they come from.

A command for a company training has not heard of yet is applied as any other (the company is
stored, its region attached when `company-registered` arrives), never held back or dead-lettered.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.training import companies, exits, needs, recommendations
from services.training.context import Training
from services.training.domain import JOURNEY_EXITS
from shared.contracts import CloudEvent, derived_event_id
from shared.contracts.intake import AssessmentCompleted, CompanyRegistered, ContactsErased
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.services import ServiceCancellationRequested, ServiceRequested
from shared.errors import DomainError
from shared.inbox import HandlerTable, PermanentError
from shared.service import ServiceContext

TOPICS: list[str] = ["edih.training.commands", "edih.intake.events", "edih.journey.events"]


def make_handlers(ctx: ServiceContext, training: Training) -> HandlerTable:
    """The handler table, bound to the service's context."""
    hub_id, clock = ctx.settings.hub_id, ctx.clock

    async def on_service_requested(session: AsyncSession, event: CloudEvent, data: ServiceRequested) -> None:
        try:
            need = await needs.open_need(data, session, hub_id, clock, training)
        except DomainError as error:
            raise PermanentError(error.reason) from error
        company = await companies.seen(session, hub_id, data.company_id, clock.now())
        if need.status == "open":
            await recommendations.publish(
                session,
                hub_id,
                training,
                company,
                trigger="service-requested",
                cause_id=need.plan_item_id,
                plan_item_id=need.plan_item_id,
            )

    async def on_cancellation_requested(
        session: AsyncSession, event: CloudEvent, data: ServiceCancellationRequested
    ) -> None:
        try:
            await exits.cancellation_requested(data, session, hub_id, clock, training)
        except DomainError as error:
            raise PermanentError(error.reason) from error

    async def on_company_registered(
        session: AsyncSession, event: CloudEvent, data: CompanyRegistered
    ) -> None:
        company = await companies.seen(session, hub_id, data.company_id, clock.now())
        company.region, company.legal_name = data.region, data.legal_name
        session.add(company)

    async def on_assessment_completed(
        session: AsyncSession, event: CloudEvent, data: AssessmentCompleted
    ) -> None:
        if data.stage != "T0":
            return
        company = await companies.seen(session, hub_id, data.company_id, clock.now())
        company.t0_scores = data.dimensions.model_dump()
        session.add(company)
        await recommendations.publish(
            session, hub_id, training, company, trigger="assessment-completed", cause_id=data.assessment_id
        )

    async def on_contacts_erased(session: AsyncSession, event: CloudEvent, data: ContactsErased) -> None:
        now = clock.now()
        if await companies.forget_participants(session, hub_id, data.company_id, now):
            # Training's own erasure, so notifications forgets the participants' addresses too.
            await ctx.outbox.add(
                session,
                "contacts-erased",
                ContactsErased(hub_id=hub_id, company_id=data.company_id, erased_at=now),
                event_id=derived_event_id("contacts-erased", data.company_id, event.id),
            )

    async def on_journey_stage_changed(
        session: AsyncSession, event: CloudEvent, data: JourneyStageChanged
    ) -> None:
        if data.to_stage in JOURNEY_EXITS:
            await exits.company_left(data, session, hub_id, clock, training)

    return {
        ServiceRequested: on_service_requested,
        ServiceCancellationRequested: on_cancellation_requested,
        CompanyRegistered: on_company_registered,
        AssessmentCompleted: on_assessment_completed,
        ContactsErased: on_contacts_erased,
        JourneyStageChanged: on_journey_stage_changed,
    }
