"""The Kafka->Temporal bridge signals before the inbox's transaction: while a signal is in flight the
journey's database stays free (on SQLite a transaction holds one lock for the whole process, the
outbox's and the relay's too), the inbox row is written only once Temporal took the fact, a fact
recorded already is not signalled again, and a fact for a journey that does not run is a dead letter.
Temporal is a stand-in here whose signal waits until the test lets it go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import func, select
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts import build_event
from shared.contracts.notifications import NotificationSent
from shared.inbox import DeadLetter, EventConsumer, ProcessedEvent
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from workflows.handlers import TOPICS, Bridge
from workflows.settings import JourneySettings

TOPIC = "edih.notifications.events"


class BlockedTemporal:
    """A TemporalConnection whose signals wait for `release` (or fail with `error`)."""

    def __init__(self) -> None:
        self.in_flight = asyncio.Event()
        self.release = asyncio.Event()
        self.signalled: list[str] = []
        self.error: Exception | None = None

    async def client(self) -> BlockedTemporal:
        return self

    def get_workflow_handle(self, workflow_id: str) -> BlockedTemporal:
        return self

    async def signal(self, _signal: Any, fact: Any) -> None:
        self.in_flight.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        self.signalled.append(fact.event_id)


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[tuple[ServiceContext, EventConsumer, BlockedTemporal]]:
    settings = JourneySettings(data_dir=tmp_path)
    context = ServiceContext.create("journey", settings)
    temporal = BlockedTemporal()
    consumer = context.consumer(TOPICS, Bridge(temporal, settings).handlers())  # type: ignore[arg-type]
    await context.db.create_all(INFRASTRUCTURE_TABLES)
    yield context, consumer, temporal
    await context.db.dispose()


def delivery(company_id: str = "c-1") -> bytes:
    data = NotificationSent(hub_id="nl-noord", company_id=company_id, notification_id="n-1",
                            message_type="welcome", channel="email",
                            sent_at=datetime(2026, 3, 2, 11, tzinfo=UTC))
    return build_event("notification-sent", data, sender="notifications",
                       at=datetime(2026, 3, 2, 9, tzinfo=UTC))[1].to_bytes()


async def count(context: ServiceContext, model: Any) -> int:
    async with context.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_another_transaction_completes_while_a_signal_is_in_flight(bridge):
    context, consumer, temporal = bridge
    processing = asyncio.create_task(consumer.process(delivery(), topic=TOPIC, partition=0, offset=0,
                                                      key="c-1"))
    await asyncio.wait_for(temporal.in_flight.wait(), timeout=5)

    # Old behaviour: the signal ran inside the inbox's transaction, and this waited for it.
    async with asyncio.timeout(2), context.db.transaction() as session:
        await session.execute(text("SELECT 1"))
    assert await count(context, ProcessedEvent) == 0, "the inbox row waits for Temporal to take the fact"

    temporal.release.set()
    assert await processing == "applied"
    assert await count(context, ProcessedEvent) == 1
    assert len(temporal.signalled) == 1


async def test_a_fact_recorded_already_is_not_signalled_again(bridge):
    _, consumer, temporal = bridge
    temporal.release.set()
    record = delivery()
    assert await consumer.process(record, topic=TOPIC, partition=0, offset=0, key="c-1") == "applied"
    assert await consumer.process(record, topic=TOPIC, partition=0, offset=1, key="c-1") == "duplicate"
    assert len(temporal.signalled) == 1


async def test_a_fact_for_a_journey_that_does_not_run_is_a_dead_letter_and_not_recorded(bridge):
    context, consumer, temporal = bridge
    temporal.release.set()
    temporal.error = RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")
    outcome = await consumer.process(delivery("c-9"), topic=TOPIC, partition=0, offset=0, key="c-9")
    assert outcome == "dead-letter"
    async with context.db.reading() as session:
        [letter] = (await session.execute(select(DeadLetter))).scalars().all()
    assert letter.error == "refused: no running journey for company c-9"
    assert await count(context, ProcessedEvent) == 0
