"""The journey service killed (SIGKILL) while an activity is in flight: the questionnaire link's
call to intake hangs on a stand-in that takes the connection and answers nothing, the worker dies
with the activity started, and after the restart Temporal runs the activity again on the new worker
(once its attempt has timed out). The journey goes on with the link, and the invitation is written
once: a lost activity would leave no invitation, a repeated one a second outbox row."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from temporalio.client import Client

from edih.infra import free_port
from shared.settings import Settings
from tests.integration.test_journey_resume import JourneyProcess, outbox, publish
from tests.support.journeys import registered, scheduled
from tests.support.waiting import eventually
from workflows import workflow_id
from workflows.journey import CompanyJourney
from workflows.worker import DATA_CONVERTER

pytestmark = pytest.mark.timeout(240)
LINK = "https://edih.example/q/after-the-restart"


class IntakeOnHold:
    """Intake's questionnaire-link endpoint that holds every request until released, then answers
    with a link (HTTP/1.1 by hand: the test controls the very moment of the answer)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.asked = asyncio.Event()
        self.released = asyncio.Event()
        self.requests = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            self.asked.set()
            await self.released.wait()
            body = json.dumps({"url": LINK}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the worker died with the request open
        finally:
            writer.close()


class PatientJourney(JourneyProcess):
    """The journey process, fetching a questionnaire link twice before the message goes without."""

    def environment(self) -> dict[str, str]:
        return {**super().environment(), "EDIH_JOURNEY_LINK_ATTEMPTS": "2"}


async def test_a_worker_killed_with_an_activity_in_flight_runs_it_again_and_writes_once(
    settings: Settings, temporal_address: str, logs_dir: Path
):
    intake = IntakeOnHold()
    await intake.start()
    settings = settings.model_copy(update={
        "temporal_address": temporal_address, "temporal_task_queue": f"q-{uuid.uuid4().hex}",
        "service_urls": {"journey": f"http://127.0.0.1:{free_port()}",
                         "intake": f"http://127.0.0.1:{intake.port}"},
    })
    service = PatientJourney(settings, logs_dir)
    client = await Client.connect(temporal_address, data_converter=DATA_CONVERTER)
    company = str(uuid.uuid4())
    handle = client.get_workflow_handle_for(CompanyJourney.run, workflow_id(company))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        service.start()
        await eventually(service.ready, timeout=60, message="journey service ready")
        await publish(producer, settings, "company-registered", registered(company).model_copy(
            update={"region": "friesland"}))
        await publish(producer, settings, "intake-scheduled", scheduled(company))
        await asyncio.wait_for(intake.asked.wait(), 60)  # the link activity is in flight

        service.kill()
        intake.released.set()  # from now on intake answers; the dead worker's request is gone
        service.start()
        await eventually(service.ready, timeout=60, message="journey service ready again")

        async def invited() -> list | None:
            events = [e for e in await outbox(settings) if e.subject == company]
            invitations = [e for e in events if e.data.get("message_type") == "questionnaire-invitation"]
            return events if invitations else None

        # The killed attempt times out (30 s) before Temporal gives the activity to the new worker.
        events = await eventually(invited, timeout=120, message="the invitation after the restart")
        view = await handle.query(CompanyJourney.state)
    finally:
        service.stop()
        await producer.stop()
        await intake.stop()

    (invitation,) = [e for e in events if e.data.get("message_type") == "questionnaire-invitation"]
    assert invitation.data["context"]["questionnaire_url"] == LINK
    assert intake.requests >= 2  # the attempt the kill cut off, then again after the restart
    assert [i for i, n in Counter(e.id for e in events).items() if n > 1] == []
    assert view.stage == "intake_scheduled" and view.applied_facts == 2
