"""The journey's vocabulary and the events it publishes (the CompanyJourney workflows): its stages,
the stage a registration opens it in, and the facts it accepts from other services.

One definition each, used by the journey and by whoever reads its events (the console). On the wire
a stage stays a plain string (`to_stage` in the JSON Schema is a string): a consumer that does not
know a newer stage still reads the event.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shared.contracts.base import Contract, EventData
from shared.contracts.intake import (
    AssessmentCompleted,
    CohortStatus,
    CompanyAdmitted,
    CompanyNotEligible,
    CompanyRegistered,
    CompanyWithdrawn,
    IntakeCompleted,
    IntakeScheduled,
    PlanAgreed,
)
from shared.contracts.notifications import NotificationSent, NotificationSentV2
from shared.contracts.services import ServiceCancelled, ServiceCompleted


class Stage(StrEnum):
    """The journey stages of DOMAIN.md, in journey order."""

    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    INTAKE_SCHEDULED = "intake_scheduled"
    INTAKE_COMPLETED = "intake_completed"
    PLAN_AGREED = "plan_agreed"
    IN_SERVICES = "in_services"
    FOLLOW_UP_DUE = "follow_up_due"
    FOLLOW_UP_COMPLETED = "follow_up_completed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    NOT_ELIGIBLE = "not_eligible"
    REFERRED_OUT = "referred_out"


# The stage a registration opens the journey in, by the company's cohort status.
STAGE_AT_REGISTRATION: dict[CohortStatus, Stage] = {
    "admitted": Stage.REGISTERED,
    "waitlisted": Stage.WAITLISTED,
    "outside_cohort": Stage.NOT_ELIGIBLE,
}

# The facts the journey accepts (by the short name of their contract) and the model of their data.
JOURNEY_FACTS: dict[str, type[EventData]] = {
    "company-registered": CompanyRegistered,
    "company-admitted": CompanyAdmitted,
    "intake-scheduled": IntakeScheduled,
    "intake-completed": IntakeCompleted,
    "assessment-completed": AssessmentCompleted,
    "plan-agreed": PlanAgreed,
    "company-withdrawn": CompanyWithdrawn,
    "company-not-eligible": CompanyNotEligible,
    "service-completed": ServiceCompleted,
    "service-cancelled": ServiceCancelled,
    # v2 reads v1's data too (its message type is any string): the workflow parses both with it.
    "notification-sent": NotificationSentV2,
}
# Earlier versions of the facts above the journey still accepts, read with the newer model.
JOURNEY_FACTS_EARLIER: tuple[type[EventData], ...] = (NotificationSent,)


class JourneyStageChanged(EventData):
    """A company's journey moved from one stage to another."""

    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str
    actor: str


CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "journey-stage-changed", "journey", "event", JourneyStageChanged, ("journey",),
        "A company's journey moved to another stage.",
    ),
)
