"""Benchmark: the outbox relay's publish rate against raw batched produce on the same broker.

Prints both rates and their ratio (relay / raw); `make bench` runs it, `make test` does not.
"""

from __future__ import annotations

import time
import uuid

from aiokafka import AIOKafkaProducer
from sqlmodel import col, func, select

from shared.contracts.intake import CompanyRegistered
from shared.outbox import OutboxRecord
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings

COUNT = 5_000


async def raw_rate(settings: Settings, payload: bytes) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        topic = settings.topic("bench.raw")
        started = time.perf_counter()
        futures = [await producer.send(topic, payload, key=str(i).encode()) for i in range(COUNT)]
        for future in futures:
            await future
        return COUNT / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def test_relay_publish_rate_against_raw_produce(settings: Settings):
    ctx = ServiceContext.create("intake", settings)
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    await ctx.broker.start()
    try:
        async with ctx.db.transaction() as session:
            for _ in range(COUNT):
                data = CompanyRegistered(
                    hub_id="nl-noord", company_id=str(uuid.uuid4()), kvk_number="12345678",
                    legal_name="Bench BV", region="drenthe", nace_code="C28", cohort_status="admitted",
                )
                await ctx.outbox.add(session, "company-registered", data)
            sample = (await session.execute(select(OutboxRecord).limit(1))).scalars().one().payload
        raw = await raw_rate(settings, sample)
        started = time.perf_counter()
        while await ctx.relay.publish_pending():
            pass
        relay = COUNT / (time.perf_counter() - started)
        async with ctx.db.reading() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(OutboxRecord).where(col(OutboxRecord.sent_at).is_(None))
            )
        assert unsent == 0
        backend = "postgres" if settings.database_url else "sqlite"
        print(f"\n[{backend}] raw produce {raw:,.0f} msg/s; outbox relay {relay:,.0f} msg/s; "
              f"ratio relay/raw = {relay / raw:.2f}")
    finally:
        await ctx.broker.stop()
        await ctx.db.dispose()
