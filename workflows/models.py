"""The values the CompanyJourney workflow takes, keeps and returns: facts, activity inputs and state.

They cross the Temporal boundary through the pydantic data converter, and are stored in workflow
histories: add fields only with defaults, so histories recorded earlier still load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.contracts.notifications import MessageType

Stage = Literal["registered", "waitlisted", "not_eligible"]
WelcomeStatus = Literal["not-requested", "requested", "sent"]


class Fact(BaseModel):
    """An event the journey applies, as the bridge received it (its `data` already validated)."""

    event_id: str
    name: str
    data: dict[str, Any]


class JourneyStart(BaseModel):
    """The workflow's input: whose journey it is."""

    company_id: str
    hub_id: str


class StageChange(BaseModel):
    """One move of the journey, as kept in its history and published as journey-stage-changed."""

    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str
    actor: str


class StageChangeCommand(BaseModel):
    """Input of the publish_stage_change activity."""

    company_id: str
    hub_id: str
    change: StageChange


class NotificationCommand(BaseModel):
    """Input of the request_notification activity."""

    company_id: str
    hub_id: str
    notification_id: str
    message_type: MessageType


class JourneyState(BaseModel):
    """Everything the workflow keeps; what a later continue-as-new will carry over."""

    company_id: str
    hub_id: str
    stage: Stage | None = None
    history: list[StageChange] = Field(default_factory=list)
    applied_event_ids: list[str] = Field(default_factory=list)
    welcome_notification_id: str | None = None
    welcome_requested_at: datetime | None = None
    welcome_sent_at: datetime | None = None


class JourneyView(BaseModel):
    """The answer of the `state` query and of GET /journeys/{company_id}."""

    company_id: str
    hub_id: str
    stage: Stage | None
    history: list[StageChange]
    applied_facts: int
    welcome: WelcomeStatus
    welcome_requested_at: datetime | None
    welcome_sent_at: datetime | None
