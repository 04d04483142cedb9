"""The transactional outbox and its relay.

A service writes its state change and its events in one database transaction (`Outbox.add`); the
`OutboxRelay` publishes unsent rows in order and marks them sent. Rows are kept after sending: they
are the service's event log. The embedded broker keeps nothing on disk, so the relay keeps a marker
topic on the broker; when the marker is gone (a new, empty broker) it publishes every retained row
again, and the consumers' inboxes make the repeats harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from faststream.kafka import KafkaBroker
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col, func, select

from shared.background import WakeableLoop
from shared.clock import Clock
from shared.contracts import CONTENT_TYPE, build_event
from shared.contracts.base import EventData
from shared.contracts.envelope import CloudEvent
from shared.db import Database, UTCDateTime, insert_ignoring_duplicates
from shared.kafka import contract_topics, ensure_topics, list_topics
from shared.metrics import EVENTS_OUT, OUTBOX_BACKLOG
from shared.settings import Settings

log = logging.getLogger(__name__)


class OutboxRecord(SQLModel, table=True):
    """One record to publish: an event, a command or a dead letter."""

    __tablename__ = "outbox"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, index=True)
    topic: str
    key: str
    payload: bytes
    content_type: str = CONTENT_TYPE
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class Outbox:
    """Writes events into a service's outbox, inside the caller's transaction."""

    def __init__(self, settings: Settings, service: str, clock: Clock) -> None:
        self.settings = settings
        self.service = service
        self.clock = clock

    async def add(
        self,
        session: AsyncSession,
        name: str,
        data: EventData,
        *,
        event_id: str | None = None,
        to: str | None = None,
    ) -> CloudEvent:
        """Record event `name` with `data`; the same `event_id` is written only once.

        `to` names the receiving service of a command that several services receive.
        """
        contract, event = build_event(
            name, data, sender=self.service, at=self.clock.now(), event_id=event_id, service=to
        )
        await self.add_raw(
            session, event.id, self.settings.topic(contract.topic), event.subject, event.to_bytes()
        )
        return event

    async def add_raw(
        self,
        session: AsyncSession,
        event_id: str,
        topic: str,
        key: str,
        payload: bytes,
        content_type: str = CONTENT_TYPE,
    ) -> None:
        await insert_ignoring_duplicates(
            session,
            OutboxRecord,
            {
                "event_id": event_id,
                "topic": topic,
                "key": key,
                "payload": payload,
                "content_type": content_type,
                "created_at": self.clock.now(),
            },
            conflict_on=["event_id"],
        )


class OutboxRelay:
    """Publishes a service's unsent outbox rows, in order, and marks them sent."""

    def __init__(
        self,
        db: Database,
        broker: KafkaBroker,
        settings: Settings,
        service: str,
        clock: Clock,
    ) -> None:
        self.db = db
        self.broker = broker
        self.settings = settings
        self.service = service
        self.clock = clock
        self.marker_topic = settings.topic(f"edih.{service}.relay-marker")
        self._loop = WakeableLoop(f"outbox relay of {service}", self._step,
                                  settings.relay_interval_seconds)
        self._last_broker_check = 0.0

    def notify(self) -> None:
        """Publish soon: something was just committed to the outbox."""
        self._loop.wake()

    async def start(self) -> None:
        await self.check_broker()
        self._last_broker_check = time.monotonic()
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _step(self) -> None:
        if time.monotonic() - self._last_broker_check >= self.settings.broker_check_interval_seconds:
            self._last_broker_check = time.monotonic()
            await self.check_broker()
        while await self.publish_pending():
            pass

    async def check_broker(self) -> bool:
        """Republish every retained row when the broker is new (our marker topic is gone).

        Returns True when it found a new broker.
        """
        if self.marker_topic in await list_topics(self.settings):
            return False
        await ensure_topics(self.settings, contract_topics(self.settings))
        async with self.db.transaction() as session:
            result = await session.execute(
                update(OutboxRecord).where(col(OutboxRecord.sent_at).is_not(None)).values(sent_at=None)
            )
        log.info(
            "%s relay: new broker found, publishing %s retained records again",
            self.service,
            result.rowcount,  # type: ignore[attr-defined]
        )
        await ensure_topics(self.settings, [self.marker_topic])
        return True

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows; returns how many were published."""
        async with self.db.reading() as session:
            rows = (
                await session.execute(
                    select(OutboxRecord)
                    .where(col(OutboxRecord.sent_at).is_(None))
                    .order_by(col(OutboxRecord.seq))
                    .limit(self.settings.relay_batch_size)
                )
            ).scalars().all()
        if not rows:
            OUTBOX_BACKLOG.labels(self.service).set(0)
            return 0
        futures = [
            await self.broker.publish(
                row.payload,
                row.topic,
                key=row.key.encode(),
                headers={"content-type": row.content_type, "ce_id": row.event_id},
                no_confirm=True,
            )
            for row in rows
        ]
        await asyncio.gather(*futures)
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxRecord)
                .where(col(OutboxRecord.seq).in_([row.seq for row in rows]))
                .values(sent_at=self.clock.now())
            )
        EVENTS_OUT.labels(self.service).inc(len(rows))
        await self._measure_backlog()
        return len(rows)

    async def _measure_backlog(self) -> None:
        async with self.db.reading() as session:
            backlog = await session.scalar(
                select(func.count()).select_from(OutboxRecord).where(col(OutboxRecord.sent_at).is_(None))
            )
        OUTBOX_BACKLOG.labels(self.service).set(backlog or 0)
