"""The journey service in-process, on the real Tansu broker and the real Temporal dev server: a
company-registered fact (even delivered again) opens one journey, which publishes one stage change
and one welcome request; the welcome's delivery is recorded; a poison record is dead-lettered in the
journey database while the bridge goes on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import delete
from sqlmodel import SQLModel, func, select
from temporalio.client import WorkflowExecutionStatus

from edih.infra import free_port
from shared.auth import issue_token
from shared.contracts import CloudEvent, build_event
from shared.contracts.intake import CompanyRegistered
from shared.contracts.notifications import NotificationSent, NotificationSentV2
from shared.inbox import DeadLetter, ProcessedEvent
from shared.outbox import OutboxRecord
from shared.service import ServiceContext
from shared.settings import Settings
from tests.support.waiting import eventually
from workflows import workflow_id
from workflows.app import create_app
from workflows.settings import JourneySettings
from workflows.worker import TemporalConnection

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Journey:
    """The running journey service and a test's view of the broker around it."""

    settings: Settings
    app: FastAPI
    http: httpx.AsyncClient
    producer: AIOKafkaProducer
    reader: AIOKafkaConsumer
    seen: list[CloudEvent] = field(default_factory=list)

    @property
    def ctx(self) -> ServiceContext:
        return self.app.state.ctx  # type: ignore[no-any-return]

    async def publish(self, topic: str, value: bytes, key: str) -> None:
        await self.producer.send_and_wait(self.settings.topic(topic), value, key=key.encode())

    async def read(self, kind: str, company_id: str) -> list[CloudEvent]:
        """Everything of `kind` published about `company_id` so far."""
        for records in (await self.reader.getmany(timeout_ms=200)).values():
            self.seen += [CloudEvent.from_bytes(r.value) for r in records]
        return [e for e in self.seen if e.type.endswith(f".{kind}.v1") and e.subject == company_id]

    async def view(self, company_id: str) -> dict | None:
        response = await self.http.get(f"/journeys/{company_id}")
        return response.json() if response.status_code == 200 else None

    async def count(self, model: type[SQLModel], *where: object) -> int:
        async with self.ctx.db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def journey_overrides() -> dict[str, object]:
    """Settings a test changes for its journey service (parametrize to set them)."""
    return {}


@pytest.fixture
async def journey(
    settings: Settings, temporal_address: str, journey_overrides: dict[str, object]
) -> AsyncIterator[Journey]:
    settings = JourneySettings.of(
        # No intake runs here: a questionnaire invitation goes without its link at the first failure.
        settings, temporal_address=temporal_address, temporal_task_queue=f"q-{uuid.uuid4().hex}",
        journey_link_attempts=1, service_urls={"intake": f"http://127.0.0.1:{free_port()}"},
        **journey_overrides,
    )
    app = create_app(settings)
    token = issue_token(settings, "advisor@edih.local", "advisor")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    reader = AIOKafkaConsumer(
        settings.topic("edih.notifications.commands"), settings.topic("edih.journey.events"),
        bootstrap_servers=settings.kafka_bootstrap_servers, auto_offset_reset="earliest",
        group_id=settings.topic("test-reader"),
        # The broker holds a group's first join for half the session timeout: keep it short.
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_session_timeout_ms // 3,
    )
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://journey",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        await producer.start()
        await reader.start()
        try:
            yield Journey(settings, app, http, producer, reader)
        finally:
            await reader.stop()
            await producer.stop()


def registration(company_id: str) -> CloudEvent:
    data = CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="12345678", legal_name="Acme BV",
        region="friesland", nace_code="C25.62", cohort_status="admitted",
    )
    return build_event("company-registered", data, sender="intake", at=NOW)[1]


def delivery(company_id: str, notification_id: str) -> CloudEvent:
    data = NotificationSent(
        hub_id="nl-noord", company_id=company_id, notification_id=notification_id,
        message_type="welcome", channel="email", sent_at=NOW.replace(hour=11),
    )
    return build_event("notification-sent", data, sender="notifications", at=NOW)[1]


async def test_a_registration_delivered_again_opens_one_journey_with_one_welcome(journey):
    company_id = str(uuid.uuid4())
    event = registration(company_id)
    for _ in range(2):
        await journey.publish("edih.intake.events", event.to_bytes(), company_id)

    async def welcome_requested() -> dict | None:
        view = await journey.view(company_id)
        return view if view and view["welcome"] == "requested" else None

    view = await eventually(welcome_requested, timeout=30, message="journey with welcome requested")
    assert view["stage"] == "registered"
    requests = await eventually(lambda: journey.read("notification-requested", company_id),
                                message="notification-requested on the broker")
    [request] = [r for r in requests if r.data["message_type"] == "welcome"]
    assert request.data["region"] == "friesland", "advisors of the region see it in the delivery log"

    # The bridge died after signalling and before its inbox row was committed: the fact comes again.
    async with journey.ctx.db.transaction() as session:
        await session.execute(delete(ProcessedEvent).where(ProcessedEvent.event_id == event.id))
    await journey.publish("edih.intake.events", event.to_bytes(), company_id)
    # Same key, so the delivery is consumed after every repeat above.
    sent = delivery(company_id, request.data["notification_id"])
    await journey.publish("edih.notifications.events", sent.to_bytes(), company_id)

    async def welcome_sent() -> dict | None:
        view = await journey.view(company_id)
        return view if view and view["welcome"] == "sent" else None

    view = await eventually(welcome_sent, timeout=30, message="welcome recorded")
    assert view["welcome_sent_at"] == "2026-03-02T11:00:00Z"
    assert view["applied_facts"] == 2
    assert [(c["from_stage"], c["to_stage"]) for c in view["history"]] == [(None, "registered")]

    await eventually(lambda: _all_sent(journey), message="journey outbox published")

    async def both_requests() -> list[str] | None:
        types = [r.data["message_type"] for r in await journey.read("notification-requested", company_id)]
        return types if len(types) >= 2 else None

    assert await eventually(both_requests, message="both requests on the broker") == [
        "welcome", "questionnaire-invitation",
    ]
    [changed] = await journey.read("journey-stage-changed", company_id)
    assert changed.data["to_stage"] == "registered"
    assert changed.source == "/nl-noord/journey"
    client = await TemporalConnection(journey.settings).client()
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id(company_id)}'")]
    assert len(runs) == 1


async def test_a_v2_sent_fact_is_read_and_applied_without_touching_the_welcome(journey):
    company_id = str(uuid.uuid4())
    await journey.publish("edih.intake.events", registration(company_id).to_bytes(), company_id)
    async def welcome_requested() -> dict | None:
        view = await journey.view(company_id)
        return view if view and view["welcome"] == "requested" else None

    await eventually(welcome_requested, timeout=30, message="journey started, welcome requested")
    data = NotificationSentV2(
        hub_id="nl-noord", company_id=company_id, notification_id=f"promoted-{company_id}",
        message_type="training-enrolment-promoted", channel="email", sent_at=NOW.replace(hour=11),
    )
    sent = build_event("notification-sent", data, sender="notifications", at=NOW)[1]
    assert sent.type == "eu.edih.notifications.notification-sent.v2"
    await journey.publish("edih.notifications.events", sent.to_bytes(), company_id)

    async def applied() -> dict | None:
        view = await journey.view(company_id)
        return view if view and view["applied_facts"] == 2 else None

    view = await eventually(applied, timeout=30, message="the v2 fact applied")
    assert (view["stage"], view["welcome"]) == ("registered", "requested")
    assert await _dead_letters(journey) == []


async def _all_sent(journey: Journey) -> bool:
    return await journey.count(OutboxRecord, OutboxRecord.sent_at.is_(None)) == 0


async def test_a_poison_record_is_dead_lettered_and_the_bridge_goes_on(journey):
    await journey.publish("edih.intake.events", b"{not json", "poison")
    company_id = str(uuid.uuid4())
    await journey.publish("edih.intake.events", registration(company_id).to_bytes(), company_id)

    await eventually(lambda: journey.view(company_id), timeout=30, message="journey after the poison")
    intake_topic = journey.settings.topic("edih.intake.events")
    [letter] = (await _dead_letters(journey))
    assert letter.topic == intake_topic
    assert letter.payload == b"{not json"
    assert letter.error.startswith("malformed")
    dlq = journey.settings.topic("edih.journey.dlq")
    await eventually(lambda: journey.count(OutboxRecord, OutboxRecord.topic == dlq,
                                           OutboxRecord.sent_at.is_not(None)),
                     message="dead letter on the journey's dead-letter topic")


async def _dead_letters(journey: Journey) -> list[DeadLetter]:
    async with journey.ctx.db.reading() as session:
        return list((await session.execute(select(DeadLetter))).scalars().all())


async def test_a_journey_is_read_only_with_a_staff_token(journey):
    unknown = await journey.http.get(f"/journeys/{uuid.uuid4()}")
    assert unknown.status_code == 404
    anonymous = await journey.http.get(f"/journeys/{uuid.uuid4()}", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    service = issue_token(journey.settings, "intake", "service")
    refused = await journey.http.get(f"/journeys/{uuid.uuid4()}",
                                     headers={"Authorization": f"Bearer {service}"})
    assert refused.status_code == 403


async def test_staff_act_on_a_journey_over_http_and_a_refusal_says_why(journey):
    company_id = str(uuid.uuid4())
    await journey.publish("edih.intake.events", registration(company_id).to_bytes(), company_id)
    await eventually(lambda: journey.view(company_id), timeout=30, message="journey opened")
    own = {"Authorization": "Bearer " + issue_token(journey.settings, "8", "advisor", regions=["friesland"])}
    other = {"Authorization": "Bearer " + issue_token(journey.settings, "9", "advisor", regions=["drenthe"])}

    paused = await journey.http.post(f"/journeys/{company_id}/pause", json={"reason": "holiday"}, headers=own)
    assert paused.status_code == 200
    assert paused.json()["paused"] is True
    assert paused.json()["next_timer"] is None
    again = await journey.http.post(f"/journeys/{company_id}/pause", json={"reason": "holiday"}, headers=own)
    assert (again.status_code, again.json()["detail"]) == (409, "the journey is already paused")
    moved = await journey.http.post(f"/journeys/{company_id}/move", json={"stage": "closed"}, headers=own)
    assert moved.status_code == 422
    foreign = await journey.http.post(f"/journeys/{company_id}/resume", json={"reason": "x"}, headers=other)
    assert foreign.status_code == 403
    viewer = issue_token(journey.settings, "v", "viewer")
    read_only = await journey.http.post(f"/journeys/{company_id}/resume", json={"reason": "x"},
                                        headers={"Authorization": f"Bearer {viewer}"})
    assert read_only.status_code == 403

    view = await journey.view(company_id)
    assert view is not None
    assert view["paused"] is True
    assert [(e["actor"], e["action"], e["reason"]) for e in view["log"] if e["actor"] != "system"] == [
        ("8", "paused", "holiday")
    ]


@pytest.mark.parametrize("journey_overrides", [{"journey_keep_after_end": timedelta(seconds=1)}])
async def test_a_staff_action_needs_a_reason_and_an_archived_journey_says_it_cannot_change(journey):
    company_id = str(uuid.uuid4())
    await journey.publish("edih.intake.events", registration(company_id).to_bytes(), company_id)
    await eventually(lambda: journey.view(company_id), timeout=30, message="journey opened")
    admin = {"Authorization": "Bearer " + issue_token(journey.settings, "1", "admin")}
    blank = await journey.http.post(f"/journeys/{company_id}/pause", json={"reason": "  "}, headers=admin)
    assert (blank.status_code, blank.json()["message"]) == (422, "reason: a staff action needs a reason")

    withdrawn = await journey.http.post(f"/journeys/{company_id}/withdraw", json={"reason": "no time"},
                                        headers=admin)
    assert withdrawn.status_code == 200 and withdrawn.json()["stage"] == "withdrawn"
    client = await journey.app.state.temporal.client()

    async def archived() -> bool:
        description = await client.get_workflow_handle(workflow_id(company_id)).describe()
        return description.status == WorkflowExecutionStatus.COMPLETED

    await eventually(archived, timeout=30, message="workflow completed after its keeping time")
    late = await journey.http.post(f"/journeys/{company_id}/move",
                                   json={"stage": "registered", "reason": "came back"}, headers=admin)
    assert late.status_code == 409
    assert late.json()["detail"] == (f"the journey of company {company_id} has ended (withdrawn) and is "
                                     "archived; it cannot change any more")
    assert (await journey.view(company_id) or {}).get("stage") == "withdrawn"  # still readable
