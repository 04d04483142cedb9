"""The Kafka connection settings on the real Tansu broker: with the defaults (plaintext, replication
factor 1) the services' topics are created with the configured partitions, and the broker the
services use publishes and consumes through them; with TLS settings (CA, client certificate and
key) the admin client and the broker reach a broker that takes only mutual TLS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from edih.infra import free_port, start_process, stop_process, tansu_command, wait_for_port
from shared.kafka import ensure_topics, kafka_client_options, list_topics, make_broker
from shared.settings import Settings
from tests.support.tls import certificates, tls_front_door


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

    await publish_and_receive(settings, topic)


async def publish_and_receive(settings: Settings, topic: str) -> None:
    """A record published with the services' broker comes back to one of its subscribers."""
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


@pytest.fixture
def tls_tansu(logs_dir: Path) -> Iterator[tuple[int, int]]:
    """A Tansu broker that tells its clients to come through the TLS port: (its own, the TLS one)."""
    own, front = free_port(), free_port()
    command = tansu_command(own)
    command[command.index("--advertised-listener-url") + 1] = f"tcp://127.0.0.1:{front}"
    process = start_process(command, logs_dir / f"tansu-tls-{own}.log")
    wait_for_port(own, process=process)
    yield own, front
    stop_process(process)


async def test_mutual_tls_from_the_settings_reaches_the_cluster(tls_tansu: tuple[int, int], tmp_path: Path):
    ca, files = certificates(tmp_path, "edih-intake")
    own, front = tls_tansu
    settings = Settings(
        data_dir=tmp_path, kafka_bootstrap_servers=f"127.0.0.1:{front}", kafka_session_timeout_ms=1_000,
        kafka_security_protocol="SSL", kafka_ssl_cafile=files["ca"], kafka_ssl_certfile=files["cert"],
        kafka_ssl_keyfile=files["key"],
    )
    async with tls_front_door(ca, own, front) as door:
        await ensure_topics(settings, ["edih.test.events"])
        assert "edih.test.events" in await list_topics(settings)
        await publish_and_receive(settings, "edih.test.events")
    assert door.clients and set(door.clients) == {"edih-intake"}
