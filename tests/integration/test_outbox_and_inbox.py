"""The reliability rules of shared/, proved on a real Tansu broker and a real database: the outbox
relay publishes what a transaction wrote, a redelivered event has one effect, a relay that dies
between publishing and marking causes no second effect, a new empty broker gets the retained events
again, and a poison record lands in the dead letters while the consumer goes on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, func, select

from shared.contracts import CloudEvent
from shared.contracts.intake import CompanyRegistered
from shared.inbox import DeadLetter
from shared.outbox import OutboxRecord
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings
from tests.conftest import Tansu
from tests.support.waiting import eventually


class SeenCompany(SQLModel, table=True):
    """The test consumer's effect: one row per applied company-registered."""

    __tablename__ = "test_seen_companies"

    id: int | None = Field(default=None, primary_key=True)
    company_id: str
    event_id: str


def registered(company_id: str) -> CompanyRegistered:
    return CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="12345678", legal_name="Acme BV",
        region="drenthe", nace_code="C25.62", cohort_status="admitted",
    )


async def record_company(session: AsyncSession, event: CloudEvent, data: CompanyRegistered) -> None:
    session.add(SeenCompany(company_id=data.company_id, event_id=event.id))


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[ServiceContext]:
    """The publishing side: intake's outbox and relay."""
    ctx = ServiceContext.create("intake", settings)
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    await ctx.broker.start()
    yield ctx
    await ctx.relay.stop()
    await ctx.broker.stop()
    await ctx.db.dispose()


@pytest.fixture
async def consumer(settings: Settings) -> AsyncIterator[ServiceContext]:
    """The consuming side: a service that records every company-registered it applies."""
    ctx = ServiceContext.create("console", settings)
    ctx.consumer(["edih.intake.events"], {"company-registered": record_company})
    await ctx.db.create_all([*INFRASTRUCTURE_TABLES, SeenCompany])
    await ctx.broker.start()
    await ctx.relay.start()
    yield ctx
    await ctx.relay.stop()
    await ctx.broker.stop()
    await ctx.db.dispose()


async def count(ctx: ServiceContext, model: type[SQLModel], *where: object) -> int:
    async with ctx.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def publish_registration(ctx: ServiceContext, company_id: str) -> CloudEvent:
    async with ctx.db.transaction() as session:
        return await ctx.outbox.add(session, "company-registered", registered(company_id))


async def test_an_event_written_to_the_outbox_is_applied_once(producer, consumer, settings):
    await producer.relay.start()
    company_id = str(uuid.uuid4())
    await publish_registration(producer, company_id)
    producer.relay.notify()
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id))
    assert await count(producer, OutboxRecord, OutboxRecord.sent_at.is_(None)) == 0
    # The consumer reports its lag per partition: nothing left behind once the event is applied.
    lag = [sample.value for metric in REGISTRY.collect() if metric.name == "edih_consumer_lag"
           for sample in metric.samples if sample.labels["topic"] == settings.topic("edih.intake.events")]
    assert lag == [0.0]


async def test_an_event_delivered_twice_has_one_effect(producer, consumer, settings):
    event = await publish_registration(producer, str(uuid.uuid4()))
    topic = settings.topic("edih.intake.events")
    for _ in range(2):
        await producer.broker.publish(event.to_bytes(), topic, key=event.subject.encode())
    marker = str(uuid.uuid4())
    await producer.broker.publish((await publish_registration(producer, marker)).to_bytes(), topic,
                                  key=marker.encode())
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == marker))
    assert await count(consumer, SeenCompany, SeenCompany.event_id == event.id) == 1


async def test_a_relay_killed_before_marking_sent_causes_no_second_effect(producer, consumer):
    company_id = str(uuid.uuid4())
    await publish_registration(producer, company_id)
    # Publish without marking: what a relay that dies right after the broker's ack leaves behind.
    async with producer.db.reading() as session:
        row = (await session.execute(select(OutboxRecord))).scalars().one()
    await producer.broker.publish(row.payload, row.topic, key=row.key.encode())
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id))
    # The restarted relay publishes the row again; the consumer's inbox drops the repeat.
    await producer.relay.start()
    await eventually(lambda: count(producer, OutboxRecord, OutboxRecord.sent_at.is_not(None)))
    marker = str(uuid.uuid4())
    await publish_registration(producer, marker)
    producer.relay.notify()
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == marker))
    assert await count(consumer, SeenCompany, SeenCompany.company_id == company_id) == 1


async def test_a_poison_record_is_dead_lettered_and_the_consumer_goes_on(
    producer, consumer, settings
):
    topic = settings.topic("edih.intake.events")
    await producer.broker.publish(b"{not json", topic, key=b"x")
    unknown = CloudEvent(id="u1", source="/nl-noord/intake", type="eu.edih.intake.nonsense.v1",
                         subject="c", time="2026-01-01T00:00:00Z", data={})
    await producer.broker.publish(unknown.to_bytes(), topic, key=b"c")
    company_id = str(uuid.uuid4())
    await producer.relay.start()
    await publish_registration(producer, company_id)
    producer.relay.notify()
    await eventually(lambda: count(consumer, SeenCompany, SeenCompany.company_id == company_id))
    assert await count(consumer, DeadLetter) == 2
    # The dead letters also reach the group's dead-letter topic, through the consumer's outbox.
    dlq = settings.topic("edih.console.dlq")
    await eventually(lambda: count(consumer, OutboxRecord, OutboxRecord.topic == dlq,
                                   OutboxRecord.sent_at.is_not(None)))


async def test_a_new_empty_broker_gets_the_retained_events_again(own_tansu: Tansu, tmp_path):
    settings = Settings(
        data_dir=tmp_path / "data", kafka_bootstrap_servers=own_tansu.bootstrap,
        relay_interval_seconds=0.05, broker_check_interval_seconds=0.2,
    )
    ctx = ServiceContext.create("intake", settings)
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    await ctx.broker.start()
    await ctx.relay.start()
    try:
        for _ in range(3):
            await publish_registration(ctx, str(uuid.uuid4()))
        ctx.relay.notify()
        await eventually(lambda: count(ctx, OutboxRecord, OutboxRecord.sent_at.is_not(None)),
                         message="first publication")
        own_tansu.restart()
        # The relay notices the missing marker and publishes all three again to the new broker.
        from aiokafka import AIOKafkaConsumer

        reader = AIOKafkaConsumer(
            "edih.intake.events", bootstrap_servers=own_tansu.bootstrap,
            auto_offset_reset="earliest", group_id="reader",
        )

        async def republished() -> int:
            return sum(len(v) for v in (await reader.getmany(timeout_ms=500)).values())

        await eventually(lambda: _topic_exists(own_tansu), timeout=20, message="topic recreated")
        await reader.start()
        try:
            seen = 0

            async def all_three() -> bool:
                nonlocal seen
                seen += await republished()
                return seen >= 3

            await eventually(all_three, timeout=20, message="three republished records")
        finally:
            await reader.stop()
    finally:
        await ctx.relay.stop()
        await ctx.broker.stop()
        await ctx.db.dispose()


async def _topic_exists(broker: Tansu) -> bool:
    from shared.kafka import list_topics

    try:
        return "edih.intake.events" in await list_topics(
            Settings(kafka_bootstrap_servers=broker.bootstrap)
        )
    except Exception:
        return False
