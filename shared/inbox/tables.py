"""The inbox's tables: the events a consumer group has applied, and the records it dead-lettered."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime

# How much of an error a dead letter keeps.
ERROR_LENGTH = 4000


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
