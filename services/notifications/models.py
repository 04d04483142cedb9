"""Notifications' tables: the delivery log (one row per message and destination, with its attempts),
the opt-outs of non-essential messages (by recipient reference and a keyed digest of the person's
address, with their undoing) and the companies whose contacts were erased; and what staff see and
send of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime

# pending -> sent | failed (after the last retry or a permanent error) | skipped (opted out) |
# cancelled (the contact was erased).
Status = Literal["pending", "sent", "failed", "skipped", "cancelled"]


class AttemptPublic(SQLModel):
    """One attempt at a delivery, as staff see it."""

    number: int
    at: datetime
    outcome: str
    error: str | None


class DeliveryPublic(SQLModel):
    """What staff see of a delivery."""

    notification_id: str
    company_id: str
    region: str | None
    message_type: str
    # What the request asked, and how the message type decided it goes (docs/notifications.md).
    urgency: str
    timing: str
    essential: bool
    channel: str
    destination: str | None
    status: Status
    attempts: int
    created_at: datetime
    send_at: datetime
    sent_at: datetime | None
    recipient_email: str | None
    language: str | None
    last_error: str | None
    erased_at: datetime | None
    history: list[AttemptPublic] = []


class Delivery(SQLModel, table=True):
    """One message to one destination: the request's recipient by e-mail, or a webhook.

    `delivery_key` is unique (the notification id for the e-mail, plus a suffix per webhook), so a
    repeated request is a no-op. The recipient is kept by reference and resolved at send time;
    `recipient_email` records where the message went and is cleared by an erasure.
    """

    __tablename__ = "deliveries"

    id: int | None = Field(default=None, primary_key=True)
    delivery_key: str = Field(unique=True, max_length=300)
    notification_id: str = Field(index=True, max_length=200)
    hub_id: str
    company_id: str = Field(index=True)
    # The company's region as the request named it: advisors see the deliveries of their regions.
    region: str | None = Field(default=None, index=True)
    message_type: str
    urgency: str = "transactional"
    channel: str = "email"
    # For a webhook: the digest naming its URL in the settings, and a display form without secrets.
    webhook_ref: str | None = None
    destination: str | None = None
    recipient_service: str
    recipient_kind: str
    recipient_ref_id: str
    context: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    recipient_email: str | None = None
    language: str | None = None
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    last_error: str | None = None
    # When the message is due, on the service's clock (business hours, the daily cap).
    send_at: datetime = Field(sa_type=UTCDateTime, index=True)
    # Real time before which no sender touches it: a retry's backoff, or a sender's claim.
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When a sender took it for an attempt; cleared with the attempt's outcome. Still set when a
    # sender finds it again: that sender stopped mid-attempt (the message may have gone).
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """One attempt at a delivery and its outcome (sent, retry, failed, skipped, cancelled, or
    interrupted: its sender stopped before it knew)."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(index=True)
    number: int
    at: datetime = Field(sa_type=UTCDateTime)
    outcome: str
    error: str | None = None


OptOutScope = Literal["person", "role"]
# active: it applies (to its person, or to the role); withdrawn: undone by the person or by staff;
# erased: its person's contacts were erased, so it applies to no one (but stays as a fact).
OptOutStatus = Literal["active", "withdrawn", "erased"]
WithdrawalSource = Literal["resubscribe-link", "staff"]
# `applies_to` of an opt-out recorded before opt-outs knew their person: the whole role.
WHOLE_ROLE = "role"


class OptOut(SQLModel, table=True):
    """A recipient who opted out of non-essential messages, by reference, and the person it belongs
    to by a keyed digest of their address (no address is kept).

    `applies_to` is what the opt-out is in force for: the address digest of the person
    (`domain.address_digest`), or `WHOLE_ROLE` for one recorded before opt-outs knew their person;
    None once it is withdrawn or its person erased. Unique with the reference, so one person (or
    role) has at most one opt-out in force, while the withdrawn ones stay as the history.
    """

    __tablename__ = "opt_outs"
    __table_args__ = (
        UniqueConstraint("recipient_service", "recipient_kind", "recipient_ref_id", "applies_to",
                         name="uq_opt_outs_in_force"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hub_id: str
    company_id: str = Field(index=True)
    # The region of the message whose link was used: advisors see the opt-outs of their regions.
    region: str | None = Field(default=None, index=True)
    recipient_service: str
    recipient_kind: str
    recipient_ref_id: str
    scope: str = "person"
    applies_to: str | None = None
    opted_out_at: datetime = Field(sa_type=UTCDateTime)
    source: str = "unsubscribe-link"
    # The message whose link was used, for the record.
    notification_id: str | None = None
    # The undo: when, by whom (a staff member; None for the person), how and why.
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by: str | None = None
    withdrawal_source: str | None = None
    withdrawal_reason: str | None = None
    # The message whose unsubscribe link led the person to the page they undid it on.
    withdrawal_notification_id: str | None = None
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OptOutPublic(SQLModel):
    """What staff see of an opt-out (never the address digest)."""

    id: int
    company_id: str
    region: str | None
    recipient_service: str
    recipient_kind: str
    recipient_ref_id: str
    scope: OptOutScope
    status: OptOutStatus
    opted_out_at: datetime
    source: str
    notification_id: str | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_source: WithdrawalSource | None
    withdrawal_reason: str | None
    withdrawal_notification_id: str | None
    erased_at: datetime | None


class OptOutWithdrawal(SQLModel):
    """Staff undo an opt-out: why (mandatory, kept with it)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ContactErasure(SQLModel, table=True):
    """A company whose contacts their owner erased (`contacts-erased`): a later message to a contact
    that owner no longer knows is cancelled, not failed (there is no one left to reach)."""

    __tablename__ = "contact_erasures"
    __table_args__ = (UniqueConstraint("company_id", "service"),)

    id: int | None = Field(default=None, primary_key=True)
    hub_id: str
    company_id: str
    # The service that owns (and erased) the contacts, e.g. intake.
    service: str
    erased_at: datetime = Field(sa_type=UTCDateTime)


MODELS: tuple[type[SQLModel], ...] = (Delivery, DeliveryAttempt, OptOut, ContactErasure)
