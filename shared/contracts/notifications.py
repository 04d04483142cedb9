"""Commands to and events from the notifications service, in two versions.

v1 names its message type from a closed list (`MessageType`); v2 is the same but for `message_type`,
a string notifications checks against its policy table (unknown types are refused), so a new message
type is data, not a contract change. A sender may keep sending v1 for the v1 message types; a new
message type goes as v2. Notifications answers in the version of the message type (`fact_version`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar, get_args

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


# v2: `message_type` is any string; notifications validates it against its policy table.
_V2_MESSAGE_TYPE = Field(description="The message type; notifications refuses one not in its policy table.")


class NotificationRequestedV2(NotificationRequested):
    """v2 of `NotificationRequested`: any message type notifications' policy table knows."""

    message_type: str = _V2_MESSAGE_TYPE  # type: ignore[assignment]


class NotificationScheduledV2(NotificationScheduled):
    """v2 of `NotificationScheduled`, for a message type that is not in v1."""

    message_type: str = _V2_MESSAGE_TYPE  # type: ignore[assignment]


class NotificationSentV2(NotificationSent):
    """v2 of `NotificationSent`, for a message type that is not in v1; its model reads v1 data too."""

    message_type: str = _V2_MESSAGE_TYPE  # type: ignore[assignment]


class NotificationFailedV2(NotificationFailed):
    """v2 of `NotificationFailed`, for a message type that is not in v1."""

    message_type: str = _V2_MESSAGE_TYPE  # type: ignore[assignment]


V1_MESSAGE_TYPES: frozenset[str] = frozenset(get_args(MessageType))
Fact = TypeVar("Fact", bound=EventData)


def fact_version(v1: type[Fact], v2: type[Fact], **fields: object) -> Fact:
    """A fact about a message in the version its message type needs: v1 for a v1 type (so readers
    of v1 keep working), else v2."""
    model = v1 if fields["message_type"] in V1_MESSAGE_TYPES else v2
    return model.model_validate(fields)


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
    Contract(
        "notification-requested", "notifications", "command", NotificationRequestedV2,
        ("journey", "intake", "training", "financing", "network"),
        "Send one message to a recipient named by reference; any message type of notifications' "
        "policy table (a new message type must use v2).", version=2,
    ),
    Contract(
        "notification-scheduled", "notifications", "event", NotificationScheduledV2,
        ("notifications",), "A requested message (a type not in v1) will be sent later.", version=2,
    ),
    Contract(
        "notification-sent", "notifications", "event", NotificationSentV2, ("notifications",),
        "A requested message (a type not in v1) was delivered.", version=2,
    ),
    Contract(
        "notification-failed", "notifications", "event", NotificationFailedV2, ("notifications",),
        "A requested message (a type not in v1) could not be delivered.", version=2,
    ),
)
