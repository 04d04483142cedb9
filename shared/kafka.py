"""Kafka plumbing: the FastStream broker factory and topic administration.

The producer's idempotence is a setting: the embedded Tansu broker refuses it (InitProducerId
fails), Apache Kafka takes it. Topics are created up front with the configured partition count, so
a consumer never waits on metadata for a topic that appears later. `partition_lag` measures how far
a consumer's group is behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from shared.contracts import CONTRACTS
from shared.settings import Settings

log = logging.getLogger(__name__)


def make_broker(settings: Settings, service: str) -> KafkaBroker:
    """A FastStream Kafka broker for `service`, configured from `settings`."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"edih-{service}",
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        graceful_timeout=10.0,
        logger=logging.getLogger(f"edih.{service}.kafka"),
        log_level=logging.DEBUG,
        # FastStream's own metrics (messages received and published, processing time, errors).
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"edih-{service}")],
    )


def contract_topics(settings: Settings) -> list[str]:
    """Every topic named in the contracts registry, as this deployment spells it."""
    return sorted({settings.topic(c.topic) for c in CONTRACTS})


def dead_letter_topic(settings: Settings, group: str) -> str:
    return settings.topic(f"edih.{group}.dlq")


async def list_topics(settings: Settings) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def ensure_topics(settings: Settings, topics: Iterable[str]) -> None:
    """Create the `topics` that do not exist yet (an existing topic is left as it is)."""
    wanted = set(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        missing = wanted - set(await admin.list_topics())
        if not missing:
            return
        new = [NewTopic(t, settings.kafka_topic_partitions, 1) for t in sorted(missing)]
        try:
            await admin.create_topics(new)
        except TopicAlreadyExistsError:
            pass  # another service created it in the meantime
        log.info("created topics %s", sorted(missing))
    finally:
        await admin.close()


async def partition_lag(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Records not yet committed on each partition assigned to `consumer`: the end offset minus the
    group's committed offset (the partition's beginning where the group has committed nothing yet)."""
    assigned = sorted(consumer.assignment())
    if not assigned:
        return {}
    ends = await consumer.end_offsets(assigned)
    committed = {tp: await consumer.committed(tp) for tp in assigned}
    fresh = [tp for tp, offset in committed.items() if offset is None]
    beginnings = await consumer.beginning_offsets(fresh) if fresh else {}
    lags = {}
    for tp in assigned:
        # Tansu answers a partition's end as the base offset of its last batch plus one; the
        # highwater of the consumer's last fetch is exact, and neither is ever past the true end.
        end = max(ends[tp], consumer.highwater(tp) or 0)
        lags[tp] = max(0, end - (committed[tp] if committed[tp] is not None else beginnings[tp]))
    return lags
