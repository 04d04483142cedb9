"""Recording a dead letter: a row in `dead_letters` and, through the outbox in the same transaction, a
record on the consumer group's dead-letter topic `edih.<group>.dlq`; and keeping a replay's new error."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import col

from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.db import Database, insert_ignoring_duplicates
from shared.inbox.tables import ERROR_LENGTH, DeadLetter
from shared.kafka import dead_letter_topic
from shared.metrics import DEAD_LETTERS
from shared.outbox import Outbox
from shared.settings import Settings

# One logger for the whole inbox, under the name it has always had (log filters and alerts use it).
log = logging.getLogger("shared.inbox")


@dataclass
class DeadLetters:
    """The dead letters of one consumer group."""

    service: str
    group: str
    db: Database
    outbox: Outbox
    settings: Settings
    clock: Clock
    on_commit: Callable[[], None]

    async def record(
        self,
        raw: bytes,
        topic: str,
        partition: int,
        offset: int,
        key: str | None,
        error: str,
        event_id: str | None = None,
    ) -> None:
        """Record the record and its error, and queue it for the group's dead-letter topic. The letter's
        id derives from where the record was and what it held, so a second attempt adds nothing."""
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

    async def keep_error(self, letter: DeadLetter, error: str) -> None:
        """Keep on the letter the reason it fails now (what has to be fixed)."""
        async with self.db.transaction() as session:
            await session.execute(update(DeadLetter).where(col(DeadLetter.id) == letter.id)
                                  .values(error=error[:ERROR_LENGTH]))
