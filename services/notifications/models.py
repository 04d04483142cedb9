"""The delivery log: one row per requested notification, from pending to sent (or failed)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime

Status = Literal["pending", "sent", "failed"]


class DeliveryPublic(SQLModel):
    """What staff see of a delivery."""

    notification_id: str
    company_id: str
    message_type: str
    channel: str
    status: Status
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    recipient_email: str | None
    language: str | None
    last_error: str | None


class Delivery(SQLModel, table=True):
    """One message to one recipient; `notification_id` is unique, so a repeated request is a no-op.

    The recipient is kept by reference and resolved at send time; `recipient_email` records where
    the message went and is nullable so an erasure can clear it.
    """

    __tablename__ = "deliveries"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: str = Field(unique=True, max_length=200)
    hub_id: str
    company_id: str = Field(index=True)
    message_type: str
    urgency: str = "transactional"
    channel: str = "email"
    recipient_service: str
    recipient_kind: str
    recipient_ref_id: str
    context: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    recipient_email: str | None = None
    language: str | None = None
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    last_error: str | None = None
    # None means due now; set after a failed attempt to the moment of the next one.
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
