"""The idempotent consumer on FastStream's in-memory TestKafkaBroker: fast checks of the inbox and
the dead letters (the same rules run against the real broker in tests/integration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker
from sqlmodel import func, select

from shared.contracts import build_event
from shared.contracts.intake import CompanyRegistered
from shared.inbox import DeadLetter, PermanentError, ProcessedEvent
from shared.outbox import OutboxRecord
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings

applied: list[str] = []


async def on_registered(session, event, data: CompanyRegistered) -> None:
    if data.legal_name == "Refused BV":
        raise PermanentError("this company cannot be applied")
    applied.append(event.id)


def registration(company_id: str, legal_name: str = "Acme BV") -> bytes:
    data = CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="12345678", legal_name=legal_name,
        region="groningen", nace_code="C10", cohort_status="admitted",
    )
    from datetime import UTC, datetime

    return build_event("company-registered", data, sender="intake",
                       at=datetime(2026, 11, 30, tzinfo=UTC))[1].to_bytes()


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[ServiceContext]:
    applied.clear()
    context = ServiceContext.create("console", Settings(data_dir=tmp_path))
    context.consumer(["edih.intake.events"], {"company-registered": on_registered})
    await context.db.create_all(INFRASTRUCTURE_TABLES)
    yield context
    await context.db.dispose()


async def rows(ctx: ServiceContext, model) -> int:  # type: ignore[no-untyped-def]
    async with ctx.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_redelivered_event_is_applied_once(ctx: ServiceContext):
    record = registration("c-1")
    async with TestKafkaBroker(ctx.broker) as broker:
        await broker.publish(record, "edih.intake.events", key=b"c-1")
        await broker.publish(record, "edih.intake.events", key=b"c-1")
    assert len(applied) == 1
    assert await rows(ctx, ProcessedEvent) == 1


@pytest.mark.parametrize(
    "record",
    [b"not json at all", b'{"specversion": "1.0"}', b'{"id": "x", "source": "/nl-noord/intake",'
     b' "type": "eu.edih.intake.company-registered.v1", "subject": "c", "time": "2026-01-01T00:00:00Z",'
     b' "data": {"company_id": "c"}}'],
    ids=["not-json", "not-an-event", "invalid-data"],
)
async def test_a_malformed_record_becomes_a_dead_letter_and_the_next_one_is_applied(ctx, record):
    async with TestKafkaBroker(ctx.broker) as broker:
        await broker.publish(record, "edih.intake.events", key=b"c")
        await broker.publish(registration("c-2"), "edih.intake.events", key=b"c-2")
    assert len(applied) == 1
    assert await rows(ctx, DeadLetter) == 1
    async with ctx.db.reading() as session:
        letter = (await session.execute(select(DeadLetter))).scalars().one()
        queued = (await session.execute(select(OutboxRecord))).scalars().one()
    assert letter.payload == record and letter.error.startswith("malformed")
    assert queued.topic == "edih.console.dlq" and queued.payload == record


async def test_a_refused_event_is_dead_lettered_without_its_effect_or_inbox_row(ctx):
    async with TestKafkaBroker(ctx.broker) as broker:
        await broker.publish(registration("c-3", "Refused BV"), "edih.intake.events", key=b"c-3")
    assert applied == []
    assert await rows(ctx, ProcessedEvent) == 0
    async with ctx.db.reading() as session:
        letter = (await session.execute(select(DeadLetter))).scalars().one()
    assert "cannot be applied" in letter.error
