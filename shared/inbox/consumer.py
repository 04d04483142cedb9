"""The consumer: runs a service's handler table for the records of its topics, each handler in one
transaction with its inbox row, and applies the policy of shared/inbox/__init__.py to the records it
cannot apply (retry later, or dead-letter); it also replays a dead letter once its cause is fixed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn, cast

from aiokafka import ConsumerRecord, TopicPartition
from faststream.exceptions import NackMessage
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shared.clock import Clock
from shared.contracts import CloudEvent, parse_data
from shared.contracts.base import Contract
from shared.db import Database, insert_ignoring_duplicates
from shared.inbox.dead_lettering import DeadLetters
from shared.inbox.failures import AlreadyResolved, PermanentError, ReplayFailed, describe, is_transient
from shared.inbox.handlers import EffectFirst, Handler, HandlerTable, check_handlers
from shared.inbox.lag import LagGauge
from shared.inbox.tables import DeadLetter, ProcessedEvent
from shared.logging import event_context
from shared.metrics import EVENT_RETRIES, EVENTS_IN, HANDLER_LATENCY
from shared.outbox import Outbox
from shared.settings import Settings

# One logger for the whole inbox, under the name it has always had (log filters and alerts use it).
log = logging.getLogger("shared.inbox")


def decode(raw: bytes) -> tuple[CloudEvent, Contract, BaseModel]:
    """The CloudEvent of a record, its contract and its validated data; raises when malformed."""
    event = CloudEvent.from_bytes(raw)
    contract, data = parse_data(event)
    return event, contract, data


@dataclass
class EventConsumer:
    """Runs `handlers` (the contract's data model -> handler) for the records of `topics`; refuses at
    once (InvalidHandlerTable) a table with a model the registry does not know or `topics` never carry."""

    service: str
    group: str
    topics: Iterable[str]
    handlers: HandlerTable
    db: Database
    outbox: Outbox
    settings: Settings
    clock: Clock
    on_commit: Callable[[], None] = lambda: None
    _subscriber: Any = field(default=None, init=False)
    # Per partition: the offset of the record that failed and how often it has failed so far.
    _failures: dict[TopicPartition, tuple[int, int]] = field(default_factory=dict, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _handled: list[str] = field(init=False)
    _lag: LagGauge = field(init=False)
    _letters: DeadLetters = field(init=False)

    def __post_init__(self) -> None:
        self.topics = list(self.topics)
        self._handled = check_handlers(self.handlers, self.topics)
        self._lag = LagGauge(self.service, self.group, self.settings.kafka_lag_interval_seconds,
                             lambda: getattr(self._subscriber, "consumer", None))
        self._letters = DeadLetters(self.service, self.group, self.db, self.outbox, self.settings,
                                    self.clock, lambda: self.on_commit())

    def subscribe(self, broker: KafkaBroker) -> None:
        """Register the subscriber on `broker` (before it starts)."""
        topics = [self.settings.topic(t) for t in self.topics]
        self._subscriber = broker.subscriber(
            *topics,
            group_id=self.settings.topic(self.group),
            auto_offset_reset="earliest",
            # Commit after the handler returned; on an exception seek back so the record comes
            # again (ACK would commit it, and a record whose dead letter failed too would be lost).
            ack_policy=AckPolicy.NACK_ON_ERROR,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=max(100, self.settings.kafka_session_timeout_ms // 3),
            rebalance_timeout_ms=self.settings.kafka_session_timeout_ms,
            title=f"{self.group}:consume",
            description=f"{self.service} consumes {', '.join(self._handled)}",
        )
        self._subscriber(self.on_record)

    def start(self) -> None:
        """Begin measuring the lag (once the broker runs)."""
        self._stopping.clear()
        self._lag.start()

    async def stop(self) -> None:
        """Stop measuring, and cut short a pause before a retry, so the broker can stop at once."""
        self._stopping.set()
        await self._lag.stop()

    async def on_record(self, message: KafkaMessage) -> None:
        # A subscriber of single records (not batches) gets one ConsumerRecord.
        record = cast(ConsumerRecord, message.raw_message)
        partition = TopicPartition(record.topic, record.partition)
        key = record.key.decode() if record.key else None
        with event_context(event_id=_header(record, "ce_id"), company_id=key):
            failures = self._failures_before(partition, record.offset)
            try:
                await self.process(record.value or b"", topic=record.topic, partition=record.partition,
                                   offset=record.offset, key=key, failures=failures)
            except Exception as error:
                await self._retry_later(partition, record.offset, failures + 1, error)
        self._failures.pop(partition, None)

    def _failures_before(self, partition: TopicPartition, offset: int) -> int:
        failing = self._failures.get(partition)
        return failing[1] if failing is not None and failing[0] == offset else 0

    async def _retry_later(
        self, partition: TopicPartition, offset: int, failures: int, error: Exception
    ) -> NoReturn:
        """Pause, then nack: FastStream seeks back to `offset` and the next fetch returns it."""
        self._failures[partition] = (offset, failures)
        unavailable = is_transient(error)
        EVENT_RETRIES.labels(self.service, "unavailable" if unavailable else "failed").inc()
        base, cap = self.settings.consumer_retry_base_seconds, self.settings.consumer_retry_cap_seconds
        delay = min(base * 2 ** min(failures - 1, 30), cap)
        why = ("a dependency is unavailable" if unavailable
               else f"failure {failures} of {self.settings.consumer_attempts} before it is dead-lettered")
        log.warning("%s[%s]@%s not processed (%s): %s; trying again in %.1f s",
                    partition.topic, partition.partition, offset, why, describe(error), delay,
                    exc_info=None if unavailable else error)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stopping.wait()
        raise NackMessage() from error

    async def process(
        self, raw: bytes, *, topic: str, partition: int, offset: int, key: str | None, failures: int = 0
    ) -> str:
        """Apply one record; returns the outcome (applied, duplicate, ignored, dead-letter).

        Raises when the record must come again: a dependency is unavailable, or the handler failed
        and this record has failed fewer than `attempts` times (`failures` counts the earlier ones).
        """
        try:
            event, contract, data = decode(raw)
        except Exception as error:
            await self._letters.record(raw, topic, partition, offset, key, f"malformed: {error}")
            return "dead-letter"
        handler = self.handlers.get(contract.model)
        if handler is None:
            EVENTS_IN.labels(self.service, contract.name, "ignored").inc()
            return "ignored"
        with event_context(event_id=event.id, company_id=event.subject):
            try:
                outcome = await self._apply(handler, event, data, contract.name)
            except PermanentError as error:
                reason = f"refused: {error}"
            except Exception as error:
                if is_transient(error) or failures + 1 < self.settings.consumer_attempts:
                    raise
                reason = f"failed {failures + 1} times: {describe(error)}"
            else:
                EVENTS_IN.labels(self.service, contract.name, outcome).inc()
                return outcome
            await self._letters.record(raw, topic, partition, offset, key, reason, event.id)
            EVENTS_IN.labels(self.service, contract.name, "dead-letter").inc()
            return "dead-letter"

    async def _apply(
        self,
        handler: Handler,
        event: CloudEvent,
        data: BaseModel,
        name: str,
        then: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> str:
        """Run the handler with the inbox row (and `then`) in one transaction: applied or duplicate.
        An `EffectFirst` handler runs before that transaction (unless the event is recorded already),
        so its round trip holds no database lock (on SQLite, one lock for the whole process)."""
        started = time.perf_counter()
        fresh = False
        effect_first = isinstance(handler, EffectFirst)
        try:
            if isinstance(handler, EffectFirst) and not await self._recorded(event.id):
                fresh = True  # time the effect, even when it fails
                await handler.effect(event, data)
            async with self.db.transaction() as session:
                fresh = await insert_ignoring_duplicates(
                    session,
                    ProcessedEvent,
                    {"consumer": self.group, "event_id": event.id, "processed_at": self.clock.now()},
                    conflict_on=["consumer", "event_id"],
                )
                if fresh and not effect_first:
                    await handler(session, event, data)
                if then is not None:
                    await then(session)
        finally:
            # Failures and refusals are timed too: a handler that hangs before failing shows here.
            if fresh:
                HANDLER_LATENCY.labels(self.service, name).observe(time.perf_counter() - started)
        if not fresh:
            return "duplicate"
        self.on_commit()
        return "applied"

    async def _recorded(self, event_id: str) -> bool:
        """Whether this consumer's inbox holds `event_id` already."""
        async with self.db.reading() as session:
            found = await session.scalar(select(col(ProcessedEvent.event_id)).where(
                col(ProcessedEvent.consumer) == self.group, col(ProcessedEvent.event_id) == event_id))
        return found is not None

    async def replay(self, letter: DeadLetter, by: str) -> tuple[str, datetime]:
        """Run a dead letter's record through the handler again, marking the letter resolved (when,
        by whom) in the effect's transaction. Returns the outcome (applied, duplicate: the event was
        applied meanwhile, or ignored: this consumer no longer handles its type) and when it was
        resolved.

        Raises ReplayFailed with the new error when it fails again (a lasting failure is kept on the
        letter, which stays open), AlreadyResolved when the letter was resolved before.
        """
        resolved_at = self.clock.now()

        async def resolve(session: AsyncSession) -> None:
            result = await session.execute(
                update(DeadLetter)
                .where(col(DeadLetter.id) == letter.id, col(DeadLetter.resolved_at).is_(None))
                .values(resolved_at=resolved_at, resolved_by=by)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise AlreadyResolved(f"dead letter {letter.id} is already resolved")

        try:
            event, contract, data = decode(letter.payload)
        except Exception as error:
            raise await self._fails_again(letter, f"malformed: {error}") from error
        handler = self.handlers.get(contract.model)
        with event_context(event_id=event.id, company_id=event.subject):
            try:
                if handler is None:
                    async with self.db.transaction() as session:
                        await resolve(session)
                    outcome = "ignored"
                else:
                    outcome = await self._apply(handler, event, data, contract.name, then=resolve)
            except AlreadyResolved:
                raise
            except PermanentError as error:
                raise await self._fails_again(letter, f"refused: {error}") from error
            except Exception as error:
                if is_transient(error):
                    raise ReplayFailed(describe(error), transient=True) from error
                raise await self._fails_again(letter, describe(error)) from error
            EVENTS_IN.labels(self.service, contract.name, outcome).inc()
            log.info("dead letter %s replayed by %s: %s", letter.id, by, outcome)
            return outcome, resolved_at

    async def _fails_again(self, letter: DeadLetter, error: str) -> ReplayFailed:
        """Keep the reason the letter fails now (what has to be fixed) on it; the failure to raise."""
        await self._letters.keep_error(letter, error)
        return ReplayFailed(error, transient=False)


def _header(record: ConsumerRecord, name: str) -> str | None:
    for header, value in record.headers or ():
        if header == name and value:
            return bytes(value).decode(errors="replace")
    return None
