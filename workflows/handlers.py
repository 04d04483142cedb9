"""The Kafka->Temporal bridge: the journey service's handler table.

Each fact is handed to the company's workflow inside the consumer's transaction, so the inbox row
is written only when Temporal took the fact. If the process dies after signalling and before the
commit, the redelivered fact is signalled again and the workflow, which keeps the ids it applied,
ignores it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts import CloudEvent, contract_for_type
from shared.contracts.intake import CompanyRegistered
from shared.contracts.notifications import NotificationSent
from shared.inbox import PermanentError
from shared.settings import Settings
from workflows import workflow_id
from workflows.journey import CompanyJourney
from workflows.models import Fact, JourneyStart
from workflows.worker import TemporalConnection

TOPICS = ("edih.intake.events", "edih.notifications.events")


def fact_of(event: CloudEvent) -> Fact:
    return Fact(event_id=event.id, name=contract_for_type(event.type).name, data=event.data)


class Bridge:
    """Hands facts from Kafka to the CompanyJourney workflows."""

    def __init__(self, temporal: TemporalConnection, settings: Settings) -> None:
        self.temporal = temporal
        self.settings = settings

    def handlers(self) -> dict[str, Any]:
        return {
            "company-registered": self.company_registered,
            "notification-sent": self.notification_sent,
        }

    async def company_registered(
        self, session: AsyncSession, event: CloudEvent, data: CompanyRegistered
    ) -> None:
        """Start the company's journey with this fact, or signal it to the running one."""
        client = await self.temporal.client()
        await client.start_workflow(
            CompanyJourney.run,
            JourneyStart(company_id=data.company_id, hub_id=data.hub_id),
            id=workflow_id(data.company_id),
            task_queue=self.settings.temporal_task_queue,
            start_signal="apply_fact",
            start_signal_args=[fact_of(event)],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )

    async def notification_sent(
        self, session: AsyncSession, event: CloudEvent, data: NotificationSent
    ) -> None:
        """Signal the fact to the company's running journey."""
        client = await self.temporal.client()
        handle = client.get_workflow_handle_for(CompanyJourney.run, workflow_id(data.company_id))
        try:
            await handle.signal(CompanyJourney.apply_fact, fact_of(event))
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                # Retrying cannot make a journey appear: keep it visible as a dead letter.
                raise PermanentError(f"no running journey for company {data.company_id}") from error
            raise
