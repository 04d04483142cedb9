"""Kafka plumbing: the FastStream broker factory, the connection's security, topic administration.

The producer's idempotence is a setting: the embedded Tansu broker refuses it (InitProducerId
fails), Apache Kafka takes it. Topics are created up front with the configured partition count and
replication factor, so a consumer never waits on metadata for a topic that appears later. TLS and
SASL come from the settings as one FastStream security object, which the broker (its producer and
consumers) and the admin client use, so they always reach the cluster the same way. `partition_lag`
measures how far a consumer's group is behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from prometheus_client import REGISTRY

from shared.contracts import CONTRACTS
from shared.settings import Settings

log = logging.getLogger(__name__)

SASL_MECHANISMS: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


def kafka_security(settings: Settings) -> BaseSecurity | None:
    """TLS and SASL of the connection to the cluster as FastStream spells them (None: plaintext)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    use_ssl = protocol.endswith("SSL")
    # aiokafka needs a context for TLS; without a CA file it trusts the system's CAs.
    context = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
    ) if use_ssl else None
    if not protocol.startswith("SASL_"):
        return BaseSecurity(ssl_context=context, use_ssl=True)
    # The settings refuse SASL without both, so they are here.
    assert settings.kafka_sasl_username and settings.kafka_sasl_password
    return SASL_MECHANISMS[settings.kafka_sasl_mechanism](
        settings.kafka_sasl_username,
        settings.kafka_sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=use_ssl,
    )


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of a plain aiokafka client (admin, producer, consumer) for `settings`."""
    return {"bootstrap_servers": settings.kafka_bootstrap_servers,
            **parse_security(kafka_security(settings))}


def make_broker(settings: Settings, service: str) -> KafkaBroker:
    """A FastStream Kafka broker for `service`, configured from `settings`."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"edih-{service}",
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        security=kafka_security(settings),
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
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def ensure_topics(settings: Settings, topics: Iterable[str]) -> None:
    """Create the `topics` that do not exist yet (an existing topic is left as it is)."""
    wanted = set(topics)
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        missing = wanted - set(await admin.list_topics())
        if not missing:
            return
        try:
            await admin.create_topics(new_topics(settings, missing))
        except TopicAlreadyExistsError:
            pass  # another service created it in the meantime
        log.info("created topics %s", sorted(missing))
    finally:
        await admin.close()


def new_topics(settings: Settings, names: Iterable[str]) -> list[NewTopic]:
    """The topics `names` as this deployment creates them: its partitions and replication factor."""
    return [NewTopic(name, settings.kafka_topic_partitions, settings.kafka_replication_factor)
            for name in sorted(names)]


async def partition_lag(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Records not yet committed on each partition assigned to `consumer`: the end offset minus the
    group's committed offset (the partition's beginning where the group has committed nothing yet)."""
    assigned = sorted(consumer.assignment())
    if not assigned:
        return {}
    ends = await consumer.end_offsets(assigned)
    committed = dict(zip(assigned, await asyncio.gather(*(consumer.committed(tp) for tp in assigned)),
                         strict=True))
    fresh = [tp for tp, offset in committed.items() if offset is None]
    beginnings = await consumer.beginning_offsets(fresh) if fresh else {}
    lags = {}
    for tp in assigned:
        # Tansu answers a partition's end as the base offset of its last batch plus one; the
        # highwater of the consumer's last fetch is exact, and neither is ever past the true end.
        end = max(ends[tp], consumer.highwater(tp) or 0)
        lags[tp] = max(0, end - (committed[tp] if committed[tp] is not None else beginnings[tp]))
    return lags
