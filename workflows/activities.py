"""The journey's activities: the only place its workflow touches the world.

Each writes one command or event into the journey service's own outbox (the relay publishes it).
The event id is derived from the workflow id and the activity id, which the workflow sets to a
stable name, so a retried activity - or a workflow replayed, reset or continued-as-new - writes the
record once.
"""

from __future__ import annotations

from temporalio import activity

from shared.contracts import derived_event_id
from shared.contracts.base import EventData
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.notifications import NotificationRequested, RecipientRef
from shared.service import ServiceContext
from workflows.models import NotificationCommand, StageChangeCommand


class JourneyActivities:
    """Activities bound to the running service's database, outbox and relay."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @activity.defn
    async def request_notification(self, command: NotificationCommand) -> str:
        """Ask notifications to send a message to the company's primary contact; returns the event id."""
        data = NotificationRequested(
            hub_id=command.hub_id,
            company_id=command.company_id,
            notification_id=command.notification_id,
            message_type=command.message_type,
            urgency="transactional",
            # By reference only: intake resolves name, e-mail and language at send time.
            recipient=RecipientRef(service="intake", kind="primary-contact", id=command.company_id),
        )
        return await self._write("notification-requested", data)

    @activity.defn
    async def publish_stage_change(self, command: StageChangeCommand) -> str:
        """Tell everyone the journey moved to another stage; returns the event id."""
        change = command.change
        data = JourneyStageChanged(
            hub_id=command.hub_id,
            company_id=command.company_id,
            from_stage=change.from_stage,
            to_stage=change.to_stage,
            at=change.at,
            reason=change.reason,
            actor=change.actor,
        )
        return await self._write("journey-stage-changed", data)

    async def _write(self, name: str, data: EventData) -> str:
        info = activity.info()
        if info.workflow_id is None:
            raise RuntimeError(f"{info.activity_type} runs only inside a journey workflow")
        event_id = derived_event_id(info.workflow_id, info.activity_id)
        async with self.ctx.db.transaction() as session:
            await self.ctx.outbox.add(session, name, data, event_id=event_id)
        self.ctx.relay.notify()
        return event_id
