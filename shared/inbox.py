"""Idempotent event consumption: the inbox of processed event ids, dead letters, and what a consumer
does with a record it cannot apply.

`EventConsumer` subscribes a service's handler table to its topics. For each record it decodes the
CloudEvent, validates `data` against the contracts registry and runs the handler in one database
transaction together with the inbox row, so a redelivered event has no second effect.

A record the handler does not apply meets this policy:

- not a CloudEvent, an unknown type, invalid data, or refused by the handler with `PermanentError`:
  a dead letter at once (a row in `dead_letters` and, through the outbox, a record on
  `edih.<group>.dlq`), and the consumer goes on with the next record;
- an unavailable dependency (`is_transient`: the database's connection and operational errors,
  `OSError`/`ConnectionError`, timeouts, Temporal's UNAVAILABLE, DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED or a failed connection, httpx transport errors): retried without limit and
  never dead-lettered, so a fact waits for its dependency instead of being lost to it;
- any other error (a bug): retried until the record has failed `attempts` times, then dead-lettered
  so the partition goes on.

A record's offset is committed only once its effect or its dead letter is committed. A record to
try again is nacked: FastStream seeks its partition back and the next fetch returns it, after a pause
that doubles from the setting `consumer_retry_base_seconds` up to `consumer_retry_cap_seconds`.
Pausing between fetches, instead of looping inside one handler call, keeps the consumer within aiokafka's
`max_poll_interval_ms`, so it stays in its group. Every retry counts in `edih_event_retries_total`
and logs a warning.

Once its cause is fixed, a dead letter can be replayed (`replay`; shared/dead_letters.py serves it
as `POST /admin/dead-letters/{id}/retry`): the record runs through the handler again and the letter
is marked resolved in the same transaction as the effect.

Every `kafka_lag_interval_seconds` the consumer measures its lag (end offset minus committed offset
of each assigned partition) into `edih_consumer_lag`, so a stuck consumer shows a growing lag.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn, cast

import httpx
from aiokafka import ConsumerRecord, TopicPartition
from faststream.exceptions import NackMessage
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from shared.background import WakeableLoop
from shared.clock import Clock
from shared.contracts import CloudEvent, derived_event_id, parse_data
from shared.contracts.base import Contract
from shared.db import Database, UTCDateTime, insert_ignoring_duplicates
from shared.kafka import dead_letter_topic, partition_lag
from shared.logging import event_context
from shared.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENT_RETRIES, EVENTS_IN, HANDLER_LATENCY
from shared.outbox import Outbox
from shared.settings import Settings

log = logging.getLogger(__name__)

# How much of an error a dead letter keeps.
ERROR_LENGTH = 4000

Handler = Callable[[AsyncSession, CloudEvent, Any], Awaitable[None]]


class ProcessedEvent(SQLModel, table=True):
    """An event a consumer group has applied; its presence makes a redelivery a no-op."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    processed_at: datetime = Field(sa_type=UTCDateTime)


class DeadLetter(SQLModel, table=True):
    """A record the service could not process, with the reason; resolved once replayed."""

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
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = None


class PermanentError(Exception):
    """A handler's refusal that retrying cannot change: the event goes to the dead letters."""


class ReplayFailed(Exception):
    """A dead letter's record failed again when replayed; `transient` when a dependency was down."""

    def __init__(self, error: str, *, transient: bool) -> None:
        super().__init__(error)
        self.error = error
        self.transient = transient


class AlreadyResolved(Exception):
    """The dead letter was resolved before (or by a concurrent replay)."""


# SQLSTATE classes of PostgreSQL errors that say the server is unavailable, not that the statement is
# wrong: connection exception, transaction rollback (serialization, deadlock), insufficient
# resources, operator intervention (shutdown, cannot connect now), system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_TRANSIENT_TEMPORAL_STATUSES = frozenset({
    RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
})
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError and TimeoutError (asyncio's too) among them
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError,
    httpx.TransportError,
    RPCTimeoutOrCancelledError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error` says that a dependency is unavailable (retry without limit), rather than
    that this record cannot be applied. Looks through the error's causes too: SQLAlchemy wraps the
    driver's error, and handlers often wrap a client's."""
    if isinstance(error, PermanentError):
        return False
    return any(_says_unavailable(link) for link in _causes(error))


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT_TYPES):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if str(getattr(error, "sqlstate", None) or "")[:2] in _TRANSIENT_SQLSTATE_CLASSES:
        return True
    if isinstance(error, RPCError):
        if error.status in _TRANSIENT_TEMPORAL_STATUSES:
            return True
        # The SDK reports some failed connections as INTERNAL with the transport's message.
        message = error.message.lower()
        return error.status == RPCStatusCode.INTERNAL and ("connect" in message or "transport" in message)
    # temporalio's Client.connect raises a plain RuntimeError when the server cannot be reached.
    return isinstance(error, RuntimeError) and str(error).startswith("Failed client connect")


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def decode(raw: bytes) -> tuple[CloudEvent, Contract, BaseModel]:
    """The CloudEvent of a record, its contract and its validated data; raises when malformed."""
    event = CloudEvent.from_bytes(raw)
    contract, data = parse_data(event)
    return event, contract, data


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
    _subscriber: Any = field(default=None, init=False)
    # Per partition: the offset of the record that failed and how often it has failed so far.
    _failures: dict[TopicPartition, tuple[int, int]] = field(default_factory=dict, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _lag_loop: WakeableLoop = field(init=False)
    _lag_partitions: set[TopicPartition] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._lag_loop = WakeableLoop(f"lag measurement of {self.group}", self.measure_lag,
                                      self.settings.kafka_lag_interval_seconds)

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
            description=f"{self.service} consumes {', '.join(self.handlers)}",
        )
        self._subscriber(self.on_record)

    def start(self) -> None:
        """Begin measuring the lag (once the broker runs)."""
        self._stopping.clear()
        self._lag_loop.start()

    async def stop(self) -> None:
        """Stop measuring, and cut short a pause before a retry, so the broker can stop at once."""
        self._stopping.set()
        await self._lag_loop.stop()

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
            await self.dead_letter(raw, topic, partition, offset, key, f"malformed: {error}")
            return "dead-letter"
        handler = self.handlers.get(contract.name)
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
            await self.dead_letter(raw, topic, partition, offset, key, reason, event.id)
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
        """Run the handler with the inbox row (and `then`) in one transaction: applied or duplicate."""
        started = time.perf_counter()
        fresh = False
        try:
            async with self.db.transaction() as session:
                fresh = await insert_ignoring_duplicates(
                    session,
                    ProcessedEvent,
                    {"consumer": self.group, "event_id": event.id, "processed_at": self.clock.now()},
                    conflict_on=["consumer", "event_id"],
                )
                if fresh:
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
        handler = self.handlers.get(contract.name)
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
        async with self.db.transaction() as session:
            await session.execute(update(DeadLetter).where(col(DeadLetter.id) == letter.id)
                                  .values(error=error[:ERROR_LENGTH]))
        return ReplayFailed(error, transient=False)

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
                    "error": error[:ERROR_LENGTH],
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

    async def measure_lag(self) -> None:
        """Set `edih_consumer_lag` for every partition assigned to this consumer (and drop the
        partitions it no longer has)."""
        consumer = getattr(self._subscriber, "consumer", None)
        if consumer is None:  # not started yet
            return
        lags = await partition_lag(consumer)
        for gone in self._lag_partitions - lags.keys():
            CONSUMER_LAG.remove(self.service, gone.topic, gone.partition)
        for partition, lag in lags.items():
            CONSUMER_LAG.labels(self.service, partition.topic, partition.partition).set(lag)
        self._lag_partitions = set(lags)


def _header(record: ConsumerRecord, name: str) -> str | None:
    for header, value in record.headers or ():
        if header == name and value:
            return bytes(value).decode(errors="replace")
    return None
