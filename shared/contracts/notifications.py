"""Commands to and events from the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Contract, EventData

MessageType = Literal["welcome"]
Urgency = Literal["transactional", "reminder", "staff-alert"]


class RecipientRef(BaseModel):
    """Who receives a message, by reference: the owning service resolves it at send time."""

    model_config = ConfigDict(extra="ignore")

    service: str = Field(description="The service that owns the person's data, e.g. intake.")
    kind: str = Field(description="What kind of recipient, e.g. primary-contact.")
    id: str = Field(description="The id the owning service knows the recipient by.")


class NotificationRequested(EventData):
    """A request to send one message; `notification_id` makes repeats harmless."""

    notification_id: str
    message_type: MessageType
    urgency: Urgency = "transactional"
    recipient: RecipientRef
    context: dict[str, str] = Field(default_factory=dict, description="Template values, no PII.")


class NotificationSent(EventData):
    """A message was handed to the mail server (or webhook receiver)."""

    notification_id: str
    message_type: MessageType
    channel: Literal["email", "webhook"]
    sent_at: datetime


CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "notification-requested", "notifications", "command", NotificationRequested,
        ("journey", "intake", "training", "financing", "network"),
        "Send one message to a recipient named by reference.",
    ),
    Contract(
        "notification-sent", "notifications", "event", NotificationSent, ("notifications",),
        "A requested message was delivered to the mail server or webhook.",
    ),
)
