"""Pure rules of the console: stage labels and how each event changes the read model (who may see
which company is shared.auth.Principal.sees). No I/O here, so the rules are tested without a broker
or a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from shared.contracts.intake import CohortStatus
from shared.contracts.journey import STAGE_AT_REGISTRATION, Stage

# The label staff read for each of the journey's stages (shared.contracts.journey.Stage), in
# journey order; the read model stores a stage by its value.
STAGE_LABELS: dict[Stage, str] = {
    Stage.REGISTERED: "Registered",
    Stage.WAITLISTED: "Waitlisted",
    Stage.INTAKE_SCHEDULED: "Intake scheduled",
    Stage.INTAKE_COMPLETED: "Intake completed",
    Stage.PLAN_AGREED: "Plan agreed",
    Stage.IN_SERVICES: "In services",
    Stage.FOLLOW_UP_DUE: "Follow-up due",
    Stage.FOLLOW_UP_COMPLETED: "Follow-up completed",
    Stage.CLOSED: "Closed",
    Stage.WITHDRAWN: "Withdrawn",
    Stage.NOT_ELIGIBLE: "Not eligible",
    Stage.REFERRED_OUT: "Referred out",
}

COHORT_LABELS: dict[str, str] = {
    "admitted": "Admitted",
    "waitlisted": "Waitlisted",
    "outside_cohort": "Outside the cohort",
}

STAFF_ROLES = ("admin", "advisor", "viewer")


def normalize_stage(stage: str) -> str:
    """One spelling per stage (`follow-up due`, `follow_up_due` and `Follow-up-due` are one stage),
    so counts by stage do not split over spellings of publishers."""
    return "_".join(stage.strip().lower().replace("-", " ").replace("_", " ").split())


def stage_label(stage: str | None) -> str:
    """The label staff read; a stage this console does not know yet still reads sensibly."""
    if not stage:
        return "Unknown"
    key = normalize_stage(stage)
    known = key in Stage.__members__.values()
    return STAGE_LABELS[Stage(key)] if known else key.replace("_", " ").capitalize()


@dataclass(frozen=True)
class StageState:
    """A company's stage in the read model and when it was reached."""

    stage: str | None = None
    changed_at: datetime | None = None


def stage_after_registration(current: StageState, cohort_status: str, at: datetime) -> StageState:
    """A registration gives the first stage, unless the journey already reported one: events of two
    topics arrive in any order, and the journey's word is the authority on stages."""
    if current.stage is not None:
        return current
    # What the registration means for the journey (its own rule) before the journey itself says so.
    stage = STAGE_AT_REGISTRATION.get(cast(CohortStatus, cohort_status), Stage.REGISTERED)
    return StageState(stage.value, at)


def stage_after_change(current: StageState, to_stage: str, at: datetime) -> StageState:
    """A stage change applies unless the read model already holds a later one (a retained event
    published again after a broker restart must not move a company back)."""
    if current.changed_at is not None and at < current.changed_at:
        return current
    return StageState(normalize_stage(to_stage), at)


def registration_summary(legal_name: str, kvk_number: str, region: str, cohort_status: str) -> str:
    cohort = COHORT_LABELS.get(cohort_status, cohort_status).lower()
    return f"Registered {legal_name} (KvK {kvk_number}, {region.capitalize()}): {cohort}"


def stage_change_summary(from_stage: str | None, to_stage: str, reason: str, actor: str) -> str:
    moved = f"Stage {stage_label(from_stage)} → {stage_label(to_stage)}" if from_stage else (
        f"Journey started at stage {stage_label(to_stage)}"
    )
    details = ", ".join(part for part in (reason, f"by {actor}" if actor else "") if part)
    return f"{moved} ({details})" if details else moved


def notification_summary(message_type: str, channel: str) -> str:
    medium = "e-mail" if channel == "email" else channel
    return f"{message_type.replace('-', ' ').capitalize()} {medium} sent"


def service_summary(name: str, facts: dict[str, Any]) -> str:
    """The timeline line of a fact from a service to the company (training, financing, network):
    what happened, from the event's ids and facts (events carry no names)."""
    match name:
        case "training-recommended":
            dimensions = sorted({c["dimension"].replace("_", " ") for c in facts["courses"]})
            count = len(facts["courses"])
            return (f"{count} course{'s' if count != 1 else ''} recommended for "
                    f"{', '.join(dimensions) or 'no weak dimension'}")
        case "enrolment-confirmed":
            return "A participant enrolled in a training session (seat confirmed)"
        case "enrolment-waitlisted":
            return f"A participant is on a session's waitlist (position {facts['position']})"
        case "enrolment-promoted":
            return "A participant moved from the waitlist to a seat"
        case "enrolment-cancelled":
            return f"An enrolment was cancelled: {facts['reason']}"
        case "attendance-recorded":
            return "A participant attended a training session" if facts["attended"] else (
                "A participant was absent from a training session")
        case "service-completed":
            return f"Plan item {facts['plan_item_id']} delivered, worth EUR {facts['value_eur']}"
        case "service-cancelled":
            return f"Plan item {facts['plan_item_id']} cancelled: {facts['reason']}"
    return name.replace("-", " ").capitalize()
