"""The journey service as a real process on the real Tansu broker and the real Temporal dev server,
killed (SIGKILL) mid-journey while its reminders are due and started again: the journey goes on to
its end with every fact applied, every reminder and command written once, every stage once; and
`edih journeys list` finds it by stage and region through Temporal's visibility.

The owners of services (training) do not exist yet: the test plays them on the broker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from edih.infra import free_port, start_process, stop_process
from shared.contracts import CloudEvent, build_event
from shared.contracts.base import EventData
from shared.db import Database
from shared.outbox import OutboxRecord
from shared.settings import Settings
from tests.support.journeys import (
    assessed,
    completed,
    interviewed,
    plan,
    registered,
    scheduled,
)
from tests.support.waiting import eventually
from workflows import workflow_id
from workflows.journey import CompanyJourney
from workflows.models import JourneyView
from workflows.worker import DATA_CONVERTER

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class JourneyProcess:
    """`python -m workflows` in its own process group, started and killed by the test."""

    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings = settings
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        s = self.settings
        env = {
            "EDIH_KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers,
            "EDIH_TOPIC_PREFIX": s.topic_prefix,
            "EDIH_KAFKA_SESSION_TIMEOUT_MS": str(s.kafka_session_timeout_ms),
            "EDIH_DATA_DIR": str(s.data_dir),
            "EDIH_TEMPORAL_ADDRESS": s.temporal_address,
            "EDIH_TEMPORAL_TASK_QUEUE": s.temporal_task_queue,
            "EDIH_SERVICE_URLS": json.dumps(s.service_urls),
            "EDIH_RELAY_INTERVAL_SECONDS": str(s.relay_interval_seconds),
            "EDIH_BUSINESS_HOURS_ENABLED": "false",
            # Months compressed into seconds, as a demo would.
            "EDIH_JOURNEY_INTAKE_ALERT_AFTER": "PT1H",
            "EDIH_JOURNEY_QUESTIONNAIRE_REMINDERS": json.dumps(["PT3S", "PT5S"]),
            "EDIH_JOURNEY_QUESTIONNAIRE_ESCALATION_AFTER": "PT7S",
            "EDIH_JOURNEY_FOLLOW_UP_AFTER": "PT2S",
            "EDIH_JOURNEY_FOLLOW_UP_REMINDERS": json.dumps(["PT1H"]),
            "EDIH_JOURNEY_DEFAULT_ADVISORS": json.dumps({"friesland": "5"}),
            # No intake runs here: messages go without the questionnaire link at the first failure.
            "EDIH_JOURNEY_LINK_ATTEMPTS": "1",
            "EDIH_LOG_LEVEL": "WARNING",
        }
        if s.database_url:
            env["EDIH_DATABASE_URL"] = s.database_url
        return env

    def start(self) -> None:
        self.process = start_process([sys.executable, "-m", "workflows"],
                                     self.logs / f"journey-{self.settings.temporal_task_queue}.log",
                                     env=self.environment(), cwd=ROOT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient() as http:
                answer = await http.get(f"{self.settings.url_of('journey')}/readyz", timeout=2)
                return answer.status_code == 200
        except httpx.HTTPError:
            return False


@pytest.fixture
def journey_settings(settings: Settings, temporal_address: str) -> Settings:
    return settings.model_copy(update={
        "temporal_address": temporal_address,
        "temporal_task_queue": f"q-{uuid.uuid4().hex}",
        # No intake runs here: messages go without the questionnaire link at the first failure.
        "service_urls": {"journey": f"http://127.0.0.1:{free_port()}",
                         "intake": f"http://127.0.0.1:{free_port()}"},
    })


@pytest.fixture
def service(journey_settings: Settings, logs_dir: Path) -> Iterator[JourneyProcess]:
    process = JourneyProcess(journey_settings, logs_dir)
    yield process
    process.stop()


@pytest.fixture
async def producer(journey_settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=journey_settings.kafka_bootstrap_servers)
    await producer.start()
    yield producer
    await producer.stop()


async def publish(producer: AIOKafkaProducer, settings: Settings, name: str, data: EventData,
                  sender: str = "intake") -> None:
    owner = sender if name.startswith("service-") else None
    event = build_event(name, data, sender=sender, at=NOW, service=owner)[1]
    await producer.send_and_wait(settings.topic(f"edih.{sender}.events"), event.to_bytes(),
                                 key=data.company_id.encode())


async def outbox(settings: Settings) -> list[CloudEvent]:
    db = Database.for_service(settings, "journey")
    try:
        async with db.reading() as session:
            rows = (await session.execute(select(OutboxRecord).order_by(OutboxRecord.seq))).scalars().all()
    finally:
        await db.dispose()
    return [CloudEvent.from_bytes(r.payload) for r in rows if r.content_type != "application/octet-stream"]


async def test_a_killed_worker_resumes_the_journey_with_nothing_lost_or_repeated(
    service, producer, journey_settings
):
    settings = journey_settings
    client = await Client.connect(settings.temporal_address, data_converter=DATA_CONVERTER)
    company = str(uuid.uuid4())
    handle = client.get_workflow_handle_for(CompanyJourney.run, workflow_id(company))

    async def view_when(check: object, message: str) -> JourneyView:
        async def probe() -> JourneyView | None:
            try:
                view = await handle.query(CompanyJourney.state)
            except Exception:
                return None
            return view if check(view) else None  # type: ignore[operator]

        return await eventually(probe, timeout=60, message=message)

    def requested(view: JourneyView, message_type: str) -> int:
        return sum(1 for e in view.log if e.action == f"requested {message_type}")

    service.start()
    await eventually(service.ready, timeout=60, message="journey service ready")
    await publish(producer, settings, "company-registered", registered(company).model_copy(
        update={"region": "friesland"}))
    await publish(producer, settings, "intake-scheduled", scheduled(company))
    await publish(producer, settings, "plan-agreed", plan(company, "training"))
    await view_when(lambda v: len(v.held) == 1 and requested(v, "questionnaire-invitation") == 1,
                    "plan held, questionnaire sent")

    # Killed while the questionnaire reminders are due: the first fires on the server with no worker.
    service.kill()

    async def timer_fired_without_worker() -> bool:
        history = await handle.fetch_history()
        return any(e.event_type == EventType.EVENT_TYPE_TIMER_FIRED for e in history.events)

    await eventually(timer_fired_without_worker, timeout=30, message="reminder due while the worker is dead")
    service.start()
    # A loaded machine may take a while to start the service again; the claim is what it then does.
    await eventually(service.ready, timeout=120, message="journey service ready again")
    view = await view_when(lambda v: requested(v, "staff-escalation") == 1, "reminders and escalation")
    assert requested(view, "questionnaire-reminder") == 2

    await publish(producer, settings, "assessment-completed", assessed(company, "T0"))
    await publish(producer, settings, "intake-completed", interviewed(company))
    view = await view_when(lambda v: v.stage == "in_services", "plan released into services")

    # Listed by stage and region through Temporal's visibility, by the command a user runs.
    async def listed() -> bool:
        code, out = await edih_command(settings, "journeys", "list", "--stage", "in_services",
                                       "--region", "friesland")
        assert code == 0, out
        return company in out

    await eventually(listed, timeout=30, message="journey listed by stage and region")

    # Training (played here) delivers; the follow-up invitation comes; the T1 closes the journey.
    await publish(producer, settings, "service-completed", completed(company, "training"), sender="training")
    await view_when(lambda v: requested(v, "follow-up-invitation") == 1, "follow-up invitation")
    await publish(producer, settings, "assessment-completed", assessed(company, "T1"))
    view = await view_when(lambda v: v.stage == "closed", "journey closed")

    assert view.applied_facts == 7
    assert view.held == []
    stages = [c.to_stage for c in view.history]
    assert stages == ["registered", "intake_scheduled", "intake_completed", "plan_agreed", "in_services",
                      "follow_up_due", "follow_up_completed", "closed"]

    async def written() -> list[CloudEvent] | None:
        events = [e for e in await outbox(settings) if e.subject == company]
        return events if sum(e.type.endswith("journey-stage-changed.v1") for e in events) == 8 else None

    events = await eventually(written, message="every command in the outbox")
    # The outbox's unique index keeps an id once; a command repeated under a new id would show here.
    repeated = Counter((e.type, json.dumps(e.data, sort_keys=True)) for e in events)
    assert [command for command, times in repeated.items() if times > 1] == []
    assert [e.data["to_stage"] for e in events if e.type.endswith("journey-stage-changed.v1")] == stages
    messages = Counter(e.data["message_type"] for e in events if e.type.endswith("notification-requested.v1"))
    assert messages == {"welcome": 1, "questionnaire-invitation": 1, "questionnaire-reminder": 2,
                        "staff-escalation": 1, "follow-up-invitation": 1}
    [escalation] = [e for e in events if e.data.get("message_type") == "staff-escalation"]
    assert escalation.data["recipient"] == {"service": "console", "kind": "advisor", "id": "17"}
    assert [e.type for e in events if "service-requested" in e.type] == [
        "eu.edih.training.service-requested.v1"
    ]



async def test_a_worker_killed_while_a_burst_of_facts_arrives_applies_each_once(
    service, producer, journey_settings
):
    """Killed (SIGKILL) while facts are being signalled, the rest published while it is dead: after
    the restart the journey reaches the stage its facts lead to, every fact applied once, every
    stage change and notification written once. A lost fact leaves the journey short of
    in_services (or applied_facts short); a repeated one shows as a second outbox row."""
    settings = journey_settings
    client = await Client.connect(settings.temporal_address, data_converter=DATA_CONVERTER)
    company = str(uuid.uuid4())
    handle = client.get_workflow_handle_for(CompanyJourney.run, workflow_id(company))
    service.start()
    await eventually(service.ready, timeout=60, message="journey service ready")

    facts = [("company-registered", registered(company).model_copy(update={"region": "friesland"})),
             ("intake-scheduled", scheduled(company)), ("plan-agreed", plan(company, "training")),
             ("assessment-completed", assessed(company, "T0")), ("intake-completed", interviewed(company))]
    for name, data in facts[:3]:
        await publish(producer, settings, name, data)
    service.kill()  # the burst is on the broker, its facts being signalled
    for name, data in facts[3:]:
        await publish(producer, settings, name, data)
    service.start()
    await eventually(service.ready, timeout=60, message="journey service ready again")

    async def in_services() -> JourneyView | None:
        try:
            view = await handle.query(CompanyJourney.state)
        except Exception:
            return None
        return view if view.stage == "in_services" else None

    view = await eventually(in_services, timeout=60, message="the stage the facts lead to")
    assert view.applied_facts == len(facts)
    stages = ["registered", "intake_scheduled", "intake_completed", "plan_agreed", "in_services"]
    assert [c.to_stage for c in view.history] == stages

    async def written() -> list[CloudEvent] | None:
        events = [e for e in await outbox(settings) if e.subject == company]
        return events if sum(e.type.endswith("journey-stage-changed.v1") for e in events) >= 5 else None

    events = await eventually(written, message="every command in the outbox")
    assert [e.data["to_stage"] for e in events if e.type.endswith("journey-stage-changed.v1")] == stages
    assert [i for i, n in Counter(e.id for e in events).items() if n > 1] == []
    messages = Counter(e.data["message_type"] for e in events if e.type.endswith("notification-requested.v1"))
    assert messages["welcome"] == 1 and messages["questionnaire-invitation"] == 1
    assert [e.type for e in events if "service-requested" in e.type] == [
        "eu.edih.training.service-requested.v1"
    ]

async def edih_command(settings: Settings, *argv: str) -> tuple[int, str]:
    """`edih <argv>` run as a user runs it, in its own process: exit code and output."""
    import asyncio

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edih.cli", *argv, cwd=ROOT,
        env={**os.environ, "EDIH_TEMPORAL_ADDRESS": settings.temporal_address},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()
