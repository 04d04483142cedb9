"""What the event consumer does with a record it cannot apply yet, on a real Tansu broker and a real
database (SQLite, and PostgreSQL where EDIH_TEST_POSTGRES_URL is set): while its database is down
longer than all attempts, the record waits and is applied once when the database is back; a
dependency that is unavailable is retried without limit and never dead-letters the fact (the
journey bridge waits for Temporal to come up and then starts the journey); a bug gets the configured
attempts, then the record is a dead letter and the partition goes on, even when the database fails
as the dead letter is written."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from edih.infra import free_port, start_process, stop_process, temporal_command
from shared.contracts import CloudEvent
from shared.contracts.intake import CompanyRegistered
from shared.inbox import DeadLetter, ProcessedEvent
from shared.service import ServiceContext
from shared.settings import Settings
from tests.support.consumers import (
    INTAKE_EVENTS,
    QUICK_CONSUMER,
    DatabaseOutage,
    SeenCompany,
    consuming_service,
    count,
    grown,
    publish_on_one_partition,
    publish_registration,
    publishing_service,
    record_company,
    registration_record,
    retries,
    running,
)
from tests.support.waiting import eventually
from workflows import workflow_id
from workflows.handlers import TOPICS, Bridge
from workflows.settings import JourneySettings
from workflows.worker import TemporalConnection


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[ServiceContext]:
    async with publishing_service(settings, relay=True) as ctx:
        yield ctx


async def test_a_record_waits_out_a_database_outage_longer_than_all_attempts(
    producer, settings, tmp_path: Path
):
    ctx = consuming_service(settings)
    outage = DatabaseOutage(ctx.db, tmp_path)
    async with running(ctx) as consumer:
        attempts = QUICK_CONSUMER["consumer_attempts"]
        before = retries("unavailable")
        outage.begin()
        company_id = str(uuid.uuid4())
        await publish_registration(producer, company_id)
        await eventually(lambda: grown(retries("unavailable"), before, 2 * attempts),
                         message="more failed deliveries than attempts")
        await outage.end()
        await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id),
                         message="the effect once the database is back")
        assert await count(consumer, SeenCompany, SeenCompany.company_id == company_id) == 1
        assert await count(consumer, DeadLetter) == 0


async def test_an_unavailable_dependency_is_retried_without_limit_and_never_dead_letters(
    producer, settings
):
    calls = 0

    async def behind_a_flaky_service(session: AsyncSession, event: CloudEvent,
                                     data: CompanyRegistered) -> None:
        nonlocal calls
        calls += 1
        if calls <= 3 * attempts:
            raise ConnectionRefusedError("the service it calls is down")
        await record_company(session, event, data)

    ctx = consuming_service(settings, {CompanyRegistered: behind_a_flaky_service})
    attempts = QUICK_CONSUMER["consumer_attempts"]
    async with running(ctx) as consumer:
        company_id = str(uuid.uuid4())
        await publish_registration(producer, company_id)
        await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id),
                         message="applied once the service is back")
        assert calls == 3 * attempts + 1
        assert await count(consumer, DeadLetter) == 0


async def test_a_bug_gets_its_attempts_then_is_dead_lettered_and_the_partition_goes_on(
    producer, settings
):
    calls: dict[str, int] = {}

    async def buggy_for_one(session: AsyncSession, event: CloudEvent, data: CompanyRegistered) -> None:
        calls[data.company_id] = calls.get(data.company_id, 0) + 1
        if data.company_id == broken:
            raise ZeroDivisionError("a bug")
        await record_company(session, event, data)

    ctx = consuming_service(settings, {CompanyRegistered: buggy_for_one})
    attempts = QUICK_CONSUMER["consumer_attempts"]
    broken, fine = str(uuid.uuid4()), str(uuid.uuid4())
    async with running(ctx) as consumer:
        await publish_on_one_partition(producer, settings, registration_record(broken),
                                       registration_record(fine), partition=1)
        await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == fine),
                         message="the next record on the partition applied")
        assert calls[broken] == attempts
        async with consumer.db.reading() as session:
            letter = (await session.execute(DeadLetter.__table__.select())).one()
        assert letter.error == f"failed {attempts} times: ZeroDivisionError: a bug"
        # The broken record was the one before the applied one, on the same partition.
        assert (letter.topic, letter.partition) == (settings.topic(INTAKE_EVENTS), 1)
        assert calls[fine] == 1
        assert await count(consumer, ProcessedEvent) == 1


async def test_a_dead_letter_whose_write_fails_is_written_when_the_database_is_back(
    producer, settings, tmp_path: Path
):
    async def buggy(session: AsyncSession, event: CloudEvent, data: CompanyRegistered) -> None:
        nonlocal calls
        calls += 1
        if calls == attempts:
            outage.begin()  # the database goes down just as the dead letter is to be written
        raise ZeroDivisionError("a bug")

    calls = 0
    ctx = consuming_service(settings, {CompanyRegistered: buggy})
    attempts = QUICK_CONSUMER["consumer_attempts"]
    outage = DatabaseOutage(ctx.db, tmp_path)
    async with running(ctx) as consumer:
        before = retries("unavailable")
        await publish_registration(producer, str(uuid.uuid4()))
        await eventually(lambda: grown(retries("unavailable"), before, 3), message="the dead letter retried")
        await outage.end()
        await eventually(lambda: count(consumer, DeadLetter), message="the dead letter written")
        assert await count(consumer, DeadLetter) == 1


async def test_the_journey_bridge_keeps_a_registration_until_temporal_is_up(
    producer, settings, tmp_path: Path
):
    port = free_port()
    settings = JourneySettings.of(settings, **QUICK_CONSUMER, temporal_address=f"127.0.0.1:{port}",
                                  temporal_task_queue=f"q-{uuid.uuid4().hex}")
    bridge = ServiceContext.create("journey", settings)
    temporal = TemporalConnection(settings)
    bridge.consumer(TOPICS, Bridge(temporal, settings).handlers())
    company_id = str(uuid.uuid4())
    async with running(bridge):
        before = retries("unavailable", "journey")
        await publish_registration(producer, company_id)
        tries = 2 * settings.consumer_attempts
        await eventually(lambda: grown(retries("unavailable", "journey"), before, tries),
                         message="Temporal tried more often than attempts")
        server = start_process(temporal_command(port, 0, tmp_path / "temporal.db"),
                               tmp_path / "temporal.log")
        try:
            await eventually(lambda: _journey_started(temporal, company_id), timeout=30,
                             message="the journey started once Temporal is up")
            assert await count(bridge, DeadLetter) == 0
        finally:
            stop_process(server)


async def _journey_started(temporal: TemporalConnection, company_id: str) -> bool:
    try:
        client = await temporal.client()
        description = await client.get_workflow_handle(workflow_id(company_id)).describe()
    except (RuntimeError, RPCError):
        return False
    return description.status == WorkflowExecutionStatus.RUNNING
