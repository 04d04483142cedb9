"""The reliability rules of shared/, proved on a real Tansu broker and a real database (SQLite, and
PostgreSQL where EDIH_TEST_POSTGRES_URL is set): the outbox relay publishes what a transaction
wrote, a redelivered event has one effect, a relay killed between publishing and marking causes no
second effect, a new empty broker gets the retained events again and its consumer applies each once,
a poison record lands in the dead letters while the consumer goes on, and the consumer's lag is
measured while it is stuck."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from shared.contracts import CloudEvent
from shared.contracts.intake import CompanyRegistered
from shared.inbox import DeadLetter
from shared.outbox import OutboxRecord
from shared.service import ServiceContext
from shared.settings import Settings
from tests.conftest import Tansu
from tests.support.consumers import (
    INTAKE_EVENTS,
    SeenCompany,
    consumed,
    consuming_service,
    count,
    grown,
    publish_on_one_partition,
    publish_registration,
    publishing_service,
    record_company,
    registration_record,
    running,
)
from tests.support.waiting import eventually

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[ServiceContext]:
    """The publishing side: intake's outbox and relay."""
    async with publishing_service(settings) as ctx:
        yield ctx


@pytest.fixture
async def consumer(settings: Settings) -> AsyncIterator[ServiceContext]:
    """The consuming side: a service that records every company-registered it applies."""
    async with running(consuming_service(settings)) as ctx:
        yield ctx


def lags(settings: Settings) -> list[float | None]:
    """The consumer's lag on each partition of intake's events, as /metrics shows it (None: not
    measured)."""
    return [REGISTRY.get_sample_value("edih_consumer_lag", {
        "service": "console", "topic": settings.topic(INTAKE_EVENTS), "partition": str(p)})
        for p in range(settings.kafka_topic_partitions)]


async def test_an_event_written_to_the_outbox_is_applied_once(producer, consumer, settings):
    await producer.relay.start()
    company_id = str(uuid.uuid4())
    await publish_registration(producer, company_id)
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id))
    assert await count(producer, OutboxRecord, OutboxRecord.sent_at.is_(None)) == 0


async def test_an_event_delivered_twice_has_one_effect(producer, consumer, settings):
    event = await publish_registration(producer, str(uuid.uuid4()))
    topic = settings.topic(INTAKE_EVENTS)
    for _ in range(2):
        await producer.broker.publish(event.to_bytes(), topic, key=event.subject.encode())
    # A marker on the same partition (same key): once it is applied, both copies were handled.
    marker = str(uuid.uuid4())
    await producer.broker.publish((await publish_registration(producer, marker)).to_bytes(), topic,
                                  key=event.subject.encode())
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == marker))
    assert await count(consumer, SeenCompany, SeenCompany.event_id == event.id) == 1


async def test_a_relay_killed_between_publishing_and_marking_sent_causes_no_second_effect(
    producer, consumer, settings
):
    company_id = str(uuid.uuid4())
    await publish_registration(producer, company_id)
    # A relay in its own process publishes the row and is killed (SIGKILL) once the broker has
    # acknowledged it, before its transaction marking the row sent begins.
    relay = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.dying_relay", producer.name, settings.model_dump_json(),
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert await asyncio.wait_for(relay.wait(), timeout=60) == -signal.SIGKILL
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id))
    assert await count(producer, OutboxRecord, OutboxRecord.sent_at.is_(None)) == 1
    # The next relay publishes the row again; the consumer's inbox drops the repeat.
    duplicates = consumed("duplicate")
    await producer.relay.start()
    await eventually(lambda: count(producer, OutboxRecord, OutboxRecord.sent_at.is_not(None)))
    await eventually(lambda: grown(consumed("duplicate"), duplicates), message="the repeat consumed")
    assert await count(consumer, SeenCompany, SeenCompany.company_id == company_id) == 1


async def test_a_poison_record_is_dead_lettered_and_the_consumer_goes_on(
    producer, consumer, settings
):
    unknown = CloudEvent(id="u1", source="/nl-noord/intake", type="eu.edih.intake.nonsense.v1",
                         subject="c", time="2026-01-01T00:00:00Z", data={})
    company_id = str(uuid.uuid4())
    # The two poison records and then a good one, in this order on one partition: the good one is
    # read only after both poison records were dealt with.
    await publish_on_one_partition(producer, settings, b"{not json", unknown.to_bytes(),
                                   registration_record(company_id), partition=2)
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id))
    async with consumer.db.reading() as session:
        letters = (await session.execute(select(DeadLetter).order_by(col(DeadLetter.offset)))).scalars().all()
    assert [(letter.partition, letter.payload) for letter in letters] == [
        (2, b"{not json"), (2, unknown.to_bytes())]
    assert letters[0].error.startswith("malformed") and letters[1].error.startswith("malformed")
    assert letters[1].offset == letters[0].offset + 1
    # The dead letters also reach the group's dead-letter topic, through the consumer's outbox.
    dlq = settings.topic("edih.console.dlq")
    await eventually(lambda: count(consumer, OutboxRecord, OutboxRecord.topic == dlq,
                                   OutboxRecord.sent_at.is_not(None)))


async def test_a_new_empty_broker_gets_the_retained_events_again_and_each_has_one_effect(
    own_tansu: Tansu, settings: Settings
):
    settings = settings.model_copy(update={"kafka_bootstrap_servers": own_tansu.bootstrap})
    companies = [str(uuid.uuid4()) for _ in range(3)]
    async with publishing_service(settings) as producer:
        await producer.relay.start()
        async with running(consuming_service(settings)) as consumer:
            for company_id in companies:
                await publish_registration(producer, company_id)
            await eventually(lambda: _all_seen(consumer, companies), message="three applied")
        # Everything stops; the broker comes back new and empty (it keeps nothing), as after
        # `edih down` and `edih up`. The relay finds its marker gone and publishes its rows again.
        own_tansu.restart()
        duplicates = consumed("duplicate")
        async with running(consuming_service(settings)) as consumer:
            await eventually(lambda: grown(consumed("duplicate"), duplicates, by=3), timeout=30,
                             message="the three republished events consumed")
            for company_id in companies:
                assert await count(consumer, SeenCompany, SeenCompany.company_id == company_id) == 1


async def _all_seen(ctx: ServiceContext, companies: list[str]) -> bool:
    return all([await count(ctx, SeenCompany, SeenCompany.company_id == c) for c in companies])


async def test_the_lag_shows_the_records_a_stuck_consumer_has_not_processed(producer, settings):
    released = asyncio.Event()

    async def stuck(session: AsyncSession, event: CloudEvent, data: CompanyRegistered) -> None:
        await released.wait()
        await record_company(session, event, data)

    async with running(consuming_service(settings, {CompanyRegistered: stuck})) as consumer:
        # A fresh consumer measures every partition it was assigned, each with nothing behind.
        await eventually(lambda: _lags_are(settings, [0.0] * settings.kafka_topic_partitions),
                         message="a lag of 0 on every partition")
        await producer.relay.start()
        company_id = str(uuid.uuid4())
        for sent in range(1, 4):  # one company: one partition, in order
            await publish_registration(producer, company_id)
            # One record a produce request: Tansu reports a partition's end as the base offset of
            # its last batch plus one, so a batch of several would show less lag than there is.
            await eventually(lambda n=sent: _sent(producer, n), message=f"{sent} sent")
        await eventually(lambda: _total_lag_is(settings, 3), message="a lag of 3")
        released.set()
        await eventually(lambda: _total_lag_is(settings, 0), message="the lag back to 0")
        assert await count(consumer, SeenCompany) == 3


async def _sent(producer: ServiceContext, expected: int) -> bool:
    return await count(producer, OutboxRecord, OutboxRecord.sent_at.is_not(None)) == expected


async def _lags_are(settings: Settings, expected: list[float | None]) -> bool:
    return lags(settings) == expected


async def _total_lag_is(settings: Settings, expected: float) -> bool:
    measured = lags(settings)
    return None not in measured and sum(lag or 0 for lag in measured) == expected

