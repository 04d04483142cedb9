"""Idempotent event consumption: the inbox of processed event ids, and dead letters.

`EventConsumer` subscribes a service's handler table to its topics. For each record it decodes the
CloudEvent, validates `data` against the contracts registry and runs the handler in one database
transaction together with the inbox row, so a redelivered event has no second effect. A record that
cannot be decoded, has an unknown type or keeps failing is recorded as a dead letter (a row here and,
through the outbox, a record on `edih.<group>.dlq`), and the consumer goes on. Offsets are committed
after processing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from aiokafka import ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import ContextRepo, KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from shared.clock import Clock
from shared.contracts import CloudEvent, derived_event_id, parse_data
from shared.db import Database, UTCDateTime, insert_ignoring_duplicates
from shared.kafka import dead_letter_topic
from shared.logging import event_context
from shared.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_IN, HANDLER_LATENCY
from shared.outbox import Outbox
from shared.settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, CloudEvent, Any], Awaitable[None]]


class ProcessedEvent(SQLModel, table=True):
    """An event a consumer group has applied; its presence makes a redelivery a no-op."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    processed_at: datetime = Field(sa_type=UTCDateTime)


class DeadLetter(SQLModel, table=True):
    """A record the service could not process, with the reason."""

    __tablename__ = "dead_letters"

    id: int | None = Field(default=None, primary_key=True)
    letter_id: str = Field(unique=True)
    consumer: str = Field(index=True)
    topic: str
    partition: int
    offset: int
    key: str | None
    payload: bytes
    error: str
    event_id: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)


class PermanentError(Exception):
    """A handler's refusal that retrying cannot change: the event goes to the dead letters."""


@dataclass
class EventConsumer:
    """Runs `handlers` (short event name -> handler) for the records of `topics`."""

    service: str
    group: str
    topics: Iterable[str]
    handlers: dict[str, Handler]
    db: Database
    outbox: Outbox
    settings: Settings
    clock: Clock
    on_commit: Callable[[], None] = lambda: None
    attempts: int = 8
    retry_delay_seconds: float = 0.5
    max_retry_delay_seconds: float = 10.0
    _subscriber: Any = field(default=None, init=False)

    def subscribe(self, broker: KafkaBroker) -> None:
        """Register the subscriber on `broker` (before it starts)."""
        topics = [self.settings.topic(t) for t in self.topics]
        self._subscriber = broker.subscriber(
            *topics,
            group_id=self.settings.topic(self.group),
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.ACK,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(100, self.settings.kafka_session_timeout_ms // 3),
            rebalance_timeout_ms=self.settings.kafka_session_timeout_ms,
            title=f"{self.group}:consume",
            description=f"{self.service} consumes {', '.join(self.handlers)}",
        )
        self._subscriber(self.on_record)

    async def on_record(self, message: KafkaMessage, context: ContextRepo) -> None:
        # A subscriber of single records (not batches) gets one ConsumerRecord.
        record = cast(ConsumerRecord, message.raw_message)
        await self.process(
            record.value or b"",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key.decode() if record.key else None,
        )
        self._measure_lag(context, record.topic, record.partition, record.offset)

    def _measure_lag(self, context: ContextRepo, topic: str, partition: int, offset: int) -> None:
        """Records still to read on this partition, from the consumer's last fetched highwater."""
        consumer = context.resolve("handler_.consumer") if context else None
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:  # the in-memory test broker has no real consumer
            return
        end = highwater(TopicPartition(topic, partition))
        if end is not None:
            CONSUMER_LAG.labels(self.service, topic, partition).set(max(0, end - offset - 1))

    async def process(
        self, raw: bytes, *, topic: str, partition: int, offset: int, key: str | None
    ) -> str:
        """Apply one record; returns the outcome (applied, duplicate, ignored, dead-letter)."""
        try:
            event = CloudEvent.from_bytes(raw)
            contract, data = parse_data(event)
        except Exception as error:
            await self.dead_letter(raw, topic, partition, offset, key, f"malformed: {error}")
            return "dead-letter"
        handler = self.handlers.get(contract.name)
        if handler is None:
            EVENTS_IN.labels(self.service, contract.name, "ignored").inc()
            return "ignored"
        with event_context(event_id=event.id, company_id=event.subject):
            for attempt in range(1, self.attempts + 1):
                try:
                    outcome = await self._apply(handler, event, data, contract.name)
                    EVENTS_IN.labels(self.service, contract.name, outcome).inc()
                    return outcome
                except PermanentError as error:
                    reason = f"refused: {error}"
                    break
                except Exception as error:
                    reason = f"failed after {attempt} attempts: {type(error).__name__}: {error}"
                    log.warning("handling %s failed (attempt %s)", contract.name, attempt,
                                exc_info=True)
                    if attempt < self.attempts:
                        # Back off exponentially: a dependency that is down (a database, Temporal)
                        # gets about a minute to come back before the record is dead-lettered.
                        await asyncio.sleep(min(self.retry_delay_seconds * 2 ** (attempt - 1),
                                                self.max_retry_delay_seconds))
            await self.dead_letter(raw, topic, partition, offset, key, reason, event.id)
            return "dead-letter"

    async def _apply(self, handler: Handler, event: CloudEvent, data: BaseModel, name: str) -> str:
        started = time.perf_counter()
        async with self.db.transaction() as session:
            fresh = await insert_ignoring_duplicates(
                session,
                ProcessedEvent,
                {"consumer": self.group, "event_id": event.id, "processed_at": self.clock.now()},
                conflict_on=["consumer", "event_id"],
            )
            if not fresh:
                return "duplicate"
            await handler(session, event, data)
        HANDLER_LATENCY.labels(self.service, name).observe(time.perf_counter() - started)
        self.on_commit()
        return "applied"

    async def dead_letter(
        self,
        raw: bytes,
        topic: str,
        partition: int,
        offset: int,
        key: str | None,
        error: str,
        event_id: str | None = None,
    ) -> None:
        """Record the record and its error, and queue it for the group's dead-letter topic."""
        log.error("dead letter from %s[%s]@%s: %s", topic, partition, offset, error)
        digest = hashlib.sha256(raw).hexdigest()
        letter_id = derived_event_id("dead-letter", self.group, topic, str(partition), str(offset),
                                     digest)
        async with self.db.transaction() as session:
            fresh = await insert_ignoring_duplicates(
                session,
                DeadLetter,
                {
                    "letter_id": letter_id,
                    "consumer": self.group,
                    "topic": topic,
                    "partition": partition,
                    "offset": offset,
                    "key": key,
                    "payload": raw,
                    "error": error[:4000],
                    "event_id": event_id,
                    "created_at": self.clock.now(),
                },
                conflict_on=["letter_id"],
            )
            if fresh:
                await self.outbox.add_raw(
                    session,
                    letter_id,
                    dead_letter_topic(self.settings, self.group),
                    key or "",
                    raw,
                    content_type="application/octet-stream",
                )
        if fresh:
            DEAD_LETTERS.labels(self.service).inc()
            self.on_commit()
