"""Commands to and events from the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Contract, EventData

MessageType = Literal[
    "welcome",
    "intake-invitation",
    "questionnaire-invitation",
    "questionnaire-reminder",
    "training-session-reminder",
    "financing-deadline",
    "follow-up-invitation",
    "follow-up-reminder",
    "staff-alert",
    "staff-escalation",
]
# What the sender asks: transactional: at once; reminder: business hours, counts to the daily cap,
# may be opted out of; information: business hours, may be opted out of; staff-alert: at once, to
# staff. The message type decides first: an urgency can only make a message stricter.
Urgency = Literal["transactional", "reminder", "information", "staff-alert"]


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
    region: str | None = Field(
        None, description="The company's region, e.g. drenthe: advisors see the messages of their regions."
    )
    not_before: datetime | None = Field(
        None, description="Send no earlier than this moment (UTC); the message's policy still applies "
                          "from then (business hours, daily cap). Absent: as soon as the policy allows.",
    )


class NotificationScheduled(EventData):
    """A message was accepted and will be sent at `send_at` (business hours, daily cap)."""

    notification_id: str
    message_type: MessageType
    send_at: datetime


class NotificationSent(EventData):
    """A message was handed to the mail server (or webhook receiver)."""

    notification_id: str
    message_type: MessageType
    channel: Literal["email", "webhook"]
    sent_at: datetime


class NotificationFailed(EventData):
    """A message could not be delivered; staff are alerted."""

    notification_id: str
    message_type: MessageType
    reason: str
    attempts: int


CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "notification-requested", "notifications", "command", NotificationRequested,
        ("journey", "intake", "training", "financing", "network"),
        "Send one message to a recipient named by reference.",
    ),
    Contract(
        "notification-scheduled", "notifications", "event", NotificationScheduled,
        ("notifications",), "A requested message will be sent later, at the time given.",
    ),
    Contract(
        "notification-sent", "notifications", "event", NotificationSent, ("notifications",),
        "A requested message was delivered to the mail server or webhook.",
    ),
    Contract(
        "notification-failed", "notifications", "event", NotificationFailed, ("notifications",),
        "A requested message could not be delivered after the last retry.",
    ),
)
