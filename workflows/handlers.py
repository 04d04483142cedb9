"""The Kafka->Temporal bridge: the journey service's handler table.

Each fact is handed to the company's workflow before the consumer's transaction records the inbox
row (`EffectFirst`): the row is written only once Temporal took the fact, and no database lock is held
during the round trip (on SQLite one lock serves the whole process, the journey's outbox and relay
too). If the process dies after signalling and before the commit, the redelivered fact is signalled
again and the workflow, which keeps the ids it applied, ignores it. A registration starts the
journey (signal-with-start); every other fact is signalled to the running journey, and a fact for
a journey that does not run (never started, or ended and completed) is a dead letter with that
reason.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts import CloudEvent, contract_for_type
from shared.contracts.base import EventData
from shared.contracts.intake import CompanyRegistered
from shared.contracts.journey import JOURNEY_FACTS, JOURNEY_FACTS_EARLIER
from shared.inbox import EffectFirst, Handler, HandlerTable, PermanentError
from workflows import workflow_id
from workflows.journey import CompanyJourney
from workflows.models import Fact, JourneyPolicy, JourneyStart
from workflows.settings import JourneySettings
from workflows.worker import TemporalConnection

TOPICS = (
    "edih.intake.events",
    "edih.notifications.events",
    "edih.training.events",
    "edih.financing.events",
    "edih.network.events",
)


def fact_of(event: CloudEvent) -> Fact:
    return Fact(event_id=event.id, name=contract_for_type(event.type).name, data=event.data)


def policy_from(settings: JourneySettings) -> JourneyPolicy:
    """The journey's durations and default advisors, as this deployment sets them: each field of the
    policy is the setting `journey_<field>`."""
    fields = JourneyPolicy.model_fields
    return JourneyPolicy(**{name: getattr(settings, f"journey_{name}") for name in fields})


class Bridge:
    """Hands facts from Kafka to the CompanyJourney workflows."""

    def __init__(self, temporal: TemporalConnection, settings: JourneySettings) -> None:
        self.temporal = temporal
        self.settings = settings

    def handlers(self) -> HandlerTable:
        """The facts the journey accepts (shared.contracts.journey.JOURNEY_FACTS), by the model of
        their data, and the earlier versions of them it still reads (`notification-sent` v1): a
        registration starts the journey, every other fact is signalled to the running one."""
        signal = EffectFirst(self.signal)
        models = (*JOURNEY_FACTS.values(), *JOURNEY_FACTS_EARLIER)
        table: dict[type[EventData], Handler] = {model: signal for model in models}
        table[CompanyRegistered] = EffectFirst(self.company_registered)
        return table

    async def company_registered(self, event: CloudEvent, data: CompanyRegistered) -> None:
        """Start the company's journey with this fact, or signal it to the running one."""
        client = await self.temporal.client()
        try:
            await client.start_workflow(
                CompanyJourney.run,
                JourneyStart(company_id=data.company_id, hub_id=data.hub_id,
                             policy=policy_from(self.settings)),
                id=workflow_id(data.company_id),
                task_queue=self.settings.temporal_task_queue,
                start_signal="apply_fact",
                start_signal_args=[fact_of(event)],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                # An ended journey is not started again by a late or repeated registration.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError as error:
            raise PermanentError(f"the journey of company {data.company_id} has ended") from error

    async def signal(self, event: CloudEvent, data: Any) -> None:
        """Signal the fact to the company's running journey."""
        client = await self.temporal.client()
        handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id(event.subject))
        try:
            await handle.signal(CompanyJourney.apply_fact, fact_of(event))
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                # Retrying cannot make a journey appear: keep it visible as a dead letter.
                raise PermanentError(f"no running journey for company {event.subject}") from error
            raise
