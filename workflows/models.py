"""The values the CompanyJourney workflow takes, keeps and returns: facts, activity inputs, staff
actions and state.

They cross the Temporal boundary through the pydantic data converter, and are stored in workflow
histories: add fields only with defaults, so histories recorded earlier still load.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.contracts.intake import AssessmentStage, ServiceKind
from shared.contracts.journey import JourneyStageChanged, Stage
from shared.contracts.notifications import MessageType, NotificationRequested, RecipientRef, Urgency

WelcomeStatus = Literal["not-requested", "requested", "sent"]
ItemStatus = Literal["open", "completed", "cancelled"]


class Fact(BaseModel):
    """An event the journey applies, as the bridge received it (its `data` already validated)."""

    event_id: str
    name: str
    data: dict[str, Any]


class JourneyPolicy(BaseModel):
    """The durations and default advisors of the deployment, taken from its settings at the start
    (so a replay sees the values the journey ran with)."""

    intake_alert_business_days: int = 5
    intake_alert_after: timedelta | None = None
    questionnaire_reminders: list[timedelta] = Field(
        default_factory=lambda: [timedelta(days=7), timedelta(days=14)]
    )
    questionnaire_escalation_after: timedelta = timedelta(days=21)
    follow_up_after: timedelta = timedelta(days=183)
    follow_up_reminders: list[timedelta] = Field(
        default_factory=lambda: [timedelta(days=7), timedelta(days=14)]
    )
    follow_up_window: timedelta = timedelta(days=60)
    keep_after_end: timedelta = timedelta(days=90)
    default_advisors: dict[str, str] = Field(default_factory=dict)
    history_threshold: int = 10_000
    link_attempts: int = 5


class StageChange(BaseModel):
    """One move of the journey, as kept in its history and published as journey-stage-changed."""

    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str
    actor: str


class LogEntry(BaseModel):
    """One line of the journey's own record: a staff action, a reminder, a held or refused fact."""

    at: datetime
    actor: str
    action: str
    reason: str = ""


class PlannedItem(BaseModel):
    """A planned service the journey follows to its end."""

    item_id: str
    kind: ServiceKind
    title: str
    owner: str | None = Field(None, description="The owning service; None when staff record it.")
    amount_eur: Decimal | None = None
    purpose: str | None = None
    status: ItemStatus = "open"
    value_eur: Decimal | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None


class HeldFact(BaseModel):
    """A fact waiting for its prerequisite."""

    fact: Fact
    reason: str
    since: datetime


class JourneyState(BaseModel):
    """Everything the workflow keeps; what continue-as-new carries over."""

    company_id: str
    hub_id: str
    stage: Stage | None = None
    history: list[StageChange] = Field(default_factory=list)
    applied_event_ids: list[str] = Field(default_factory=list)
    welcome_notification_id: str | None = None
    welcome_requested_at: datetime | None = None
    welcome_sent_at: datetime | None = None
    region: str | None = None
    company_name: str | None = None  # the legal name, as registered: for staff alerts
    advisor_id: str | None = None
    intake_scheduled_at: datetime | None = None
    intake_completed: bool = False
    t0_assessment_id: str | None = None
    t1_assessment_id: str | None = None
    plan_id: str | None = None
    items: list[PlannedItem] = Field(default_factory=list)
    # Timer name -> when it fires; while paused, timer name -> the time it still had to run.
    timers: dict[str, datetime] = Field(default_factory=dict)
    paused_remaining: dict[str, timedelta] | None = None
    overdue: list[str] = Field(default_factory=list)
    closed_without_follow_up: bool = False
    held: list[HeldFact] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)
    # Answer-by dates told to the company with its invitations and reminders.
    questionnaire_deadline: datetime | None = None
    follow_up_deadline: datetime | None = None
    # Facts taken but not yet applied: carried over a continue-as-new with the rest.
    pending: list[Fact] = Field(default_factory=list)
    # How often each message was requested: a message sent again when a stage is entered again
    # gets an id of its own (`<key>-2`, ...), so the outbox and notifications do not drop it.
    message_rounds: dict[str, int] = Field(default_factory=dict)


class JourneyStart(BaseModel):
    """The workflow's input: whose journey it is, the policy it runs with, and on continue-as-new
    the state carried over."""

    company_id: str
    hub_id: str
    policy: JourneyPolicy = Field(default_factory=JourneyPolicy)
    state: JourneyState | None = None


# The journey's activities take the contract's model where it says all they need (the stage change,
# the notification request). The two commands below are the inputs those activities took before:
# an activity scheduled by an older worker may still arrive with one, so they stay, and each says
# once how it becomes the contract's model.


class StageChangeCommand(BaseModel):
    """The publish_stage_change activity's input before it took JourneyStageChanged."""

    company_id: str
    hub_id: str
    change: StageChange

    def stage_changed(self) -> JourneyStageChanged:
        return JourneyStageChanged(company_id=self.company_id, hub_id=self.hub_id, **self.change.model_dump())


class NotificationCommand(BaseModel):
    """The request_notification activity's input before it took NotificationRequested; the
    company's primary contact by default."""

    company_id: str
    hub_id: str
    notification_id: str
    message_type: MessageType
    urgency: Urgency = "transactional"
    recipient: RecipientRef | None = None
    context: dict[str, str] = Field(default_factory=dict)
    # The company's region, so advisors see the message in the delivery log (a default: histories
    # recorded before it replay unchanged).
    region: str | None = None

    def requested(self) -> NotificationRequested:
        return NotificationRequested(
            **self.model_dump(exclude={"recipient"}),
            recipient=self.recipient or primary_contact(self.company_id),
        )


def primary_contact(company_id: str) -> RecipientRef:
    """A message's recipient by default: the company's primary contact, by reference only (the
    owner resolves name, e-mail and language at send time)."""
    return RecipientRef(service="intake", kind="primary-contact", id=company_id)


class ServiceCommand(BaseModel):
    """Input of the request_service activity: one planned item for its owning service."""

    company_id: str
    hub_id: str
    owner: str
    item: PlannedItem


class ServiceCancellationCommand(BaseModel):
    """Input of the request_service_cancellation activity: staff cancelled an item its owner delivers."""

    company_id: str
    hub_id: str
    owner: str
    item_id: str
    reason: str
    actor: str


class LinkRequest(BaseModel):
    """Input of the questionnaire_link activity."""

    company_id: str
    stage: AssessmentStage


class BusinessDeadline(BaseModel):
    """Input of the business_deadline activity."""

    start: datetime
    business_days: int


class StaffAction(BaseModel):
    """Who asks for a staff action, and why: both recorded in the journey's log."""

    actor: str
    reason: str


class Reassignment(StaffAction):
    advisor_id: str


class ItemAction(StaffAction):
    item_id: str


class ItemOutcome(StaffAction):
    """Staff record the end of a staff-recorded item (test-before-invest)."""

    item_id: str
    outcome: Literal["completed", "cancelled"]
    value_eur: Decimal | None = Field(None, ge=0)


class StageMove(StaffAction):
    stage: Stage


class NextTimer(BaseModel):
    name: str
    due_at: datetime


class PausedTimer(BaseModel):
    """A timer of a paused journey: the time it still has to run once resumed."""

    name: str
    remaining: timedelta


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
    region: str | None = None
    advisor_id: str | None = None
    items: list[PlannedItem] = Field(default_factory=list)
    next_timer: NextTimer | None = None
    paused: bool = False
    paused_timers: list[PausedTimer] = Field(
        default_factory=list, description="While paused: each timer and the time it has left."
    )
    overdue: list[str] = Field(default_factory=list)
    closed_without_follow_up: bool = False
    held: list[HeldFact] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)
    pending: int = Field(0, description="Facts taken but not applied yet.")
    busy: bool = Field(False, description="A fact, timer or staff action is being applied now.")
