"""Event subscribers: each applies one event to the read model, in the transaction of its inbox row.

The console projects every fact the platform publishes, so it subscribes to every events topic of
the contracts registry; event types it has no handler for are counted and skipped by the consumer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from services.console import domain
from services.console.models import CompanyView, TimelineEntry
from shared.contracts import CONTRACTS, CloudEvent
from shared.contracts.base import EventData
from shared.contracts.intake import CompanyRegistered
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.notifications import NotificationSent, NotificationSentV2
from shared.contracts.services import ServiceCancelled, ServiceCompleted
from shared.contracts.training import (
    AttendanceRecorded,
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentPromoted,
    EnrolmentWaitlisted,
    TrainingRecommended,
)
from shared.db import insert_ignoring_duplicates
from shared.inbox import HandlerTable
from shared.metrics import JOURNEYS_BY_STAGE

EVENT_TOPICS: tuple[str, ...] = tuple(sorted({c.topic for c in CONTRACTS if c.kind == "event"}))


async def _view(session: AsyncSession, hub_id: str, company_id: str) -> CompanyView:
    """The company's row, created on first sight. Two consoles creating it at once make one of them
    fail on the primary key; the consumer's retry then finds the row."""
    view = await session.get(CompanyView, company_id, with_for_update=True)
    if view is None:
        view = CompanyView(company_id=company_id, hub_id=hub_id)
        session.add(view)
    return view


async def _record(
    session: AsyncSession, event: CloudEvent, name: str, summary: str, at: datetime
) -> None:
    # The inbox already drops redeliveries; the unique event id also keeps a rebuild from doubling.
    await insert_ignoring_duplicates(
        session,
        TimelineEntry,
        {"company_id": event.subject, "event_id": event.id, "type": name, "summary": summary, "at": at},
        conflict_on=["event_id"],
    )


async def on_company_registered(
    session: AsyncSession, event: CloudEvent, data: CompanyRegistered
) -> None:
    view = await _view(session, data.hub_id, data.company_id)
    view.kvk_number = data.kvk_number
    view.legal_name = data.legal_name
    view.region = data.region
    view.nace_code = data.nace_code
    view.cohort_status = data.cohort_status
    view.registered_at = event.time
    state = domain.stage_after_registration(
        domain.StageState(view.stage, view.stage_changed_at), data.cohort_status, event.time
    )
    view.stage, view.stage_changed_at = state.stage, state.changed_at
    summary = domain.registration_summary(
        data.legal_name, data.kvk_number, data.region, data.cohort_status
    )
    await _record(session, event, "company-registered", summary, event.time)
    await count_journeys_by_stage(session)


async def on_journey_stage_changed(
    session: AsyncSession, event: CloudEvent, data: JourneyStageChanged
) -> None:
    view = await _view(session, data.hub_id, data.company_id)
    state = domain.stage_after_change(
        domain.StageState(view.stage, view.stage_changed_at), data.to_stage, data.at
    )
    view.stage, view.stage_changed_at = state.stage, state.changed_at
    summary = domain.stage_change_summary(data.from_stage, data.to_stage, data.reason, data.actor)
    await _record(session, event, "journey-stage-changed", summary, data.at)
    await count_journeys_by_stage(session)


async def count_journeys_by_stage(session: AsyncSession) -> None:
    """Set the journeys-per-stage gauge from the read model (stages with none read as 0)."""
    await session.flush()
    counts = dict(
        (await session.execute(select(CompanyView.stage, func.count()).group_by(CompanyView.stage))).all()
    )
    for stage in {*domain.STAGE_LABELS, *(s for s in counts if s)}:
        JOURNEYS_BY_STAGE.labels(stage).set(counts.get(stage, 0))


async def on_notification_sent(
    session: AsyncSession, event: CloudEvent, data: NotificationSent
) -> None:
    await _view(session, data.hub_id, data.company_id)
    summary = domain.notification_summary(data.message_type, data.channel)
    await _record(session, event, "notification-sent", summary, data.sent_at)


async def on_service_fact(session: AsyncSession, event: CloudEvent, data: EventData) -> None:
    """A fact of a service to the company (training's enrolments, a delivered or cancelled plan
    item): a line in its timeline."""
    await _view(session, data.hub_id, data.company_id)
    name = event.type.split(".")[3]
    summary = domain.service_summary(name, data.model_dump(mode="json"))
    await _record(session, event, name, summary, event.time)


SERVICE_FACTS: tuple[type[EventData], ...] = (
    TrainingRecommended, EnrolmentConfirmed, EnrolmentWaitlisted, EnrolmentPromoted,
    EnrolmentCancelled, AttendanceRecorded, ServiceCompleted, ServiceCancelled,
)

HANDLERS: HandlerTable = {
    CompanyRegistered: on_company_registered,
    JourneyStageChanged: on_journey_stage_changed,
    # v1 for the message types of v1, v2 for the newer ones (e.g. training-enrolment-promoted).
    NotificationSent: on_notification_sent,
    NotificationSentV2: on_notification_sent,
    **dict.fromkeys(SERVICE_FACTS, on_service_fact),
}
