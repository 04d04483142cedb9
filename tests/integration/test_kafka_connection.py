"""The Kafka connection settings on the real Tansu broker: with the defaults (plaintext, replication
factor 1) the services' topics are created with the configured partitions, and the broker the
services use publishes and consumes through them."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka import ensure_topics, kafka_client_options, make_broker
from shared.settings import Settings


async def test_the_defaults_create_topics_and_carry_records_on_tansu(settings: Settings):
    settings = settings.model_copy(update={"kafka_topic_partitions": 2})
    assert (settings.kafka_security_protocol, settings.kafka_replication_factor) == ("PLAINTEXT", 1)
    topic = settings.topic("edih.test.events")
    await ensure_topics(settings, [topic])

    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert described["error_code"] == 0
    partitions = described["partitions"]
    assert len(partitions) == 2 and all(len(p["replicas"]) == 1 for p in partitions)

    broker = make_broker(settings, "intake")
    received: asyncio.Queue[bytes] = asyncio.Queue()

    @broker.subscriber(topic, group_id=settings.topic("reader"), auto_offset_reset="earliest",
                       session_timeout_ms=settings.kafka_session_timeout_ms,
                       heartbeat_interval_ms=settings.kafka_session_timeout_ms // 3)
    async def read(body: bytes) -> None:
        await received.put(body)

    await broker.start()
    try:
        await broker.publish(b"hello", topic, key=b"c-1")
        assert await asyncio.wait_for(received.get(), timeout=30) == b"hello"
    finally:
        await broker.stop()
