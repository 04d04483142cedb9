"""Pure rules of the console: stage names and labels, how each event changes the read model, and
who may see which company. No I/O here, so the rules are tested without a broker or a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The journey stages of DOMAIN.md, keyed the way the read model stores them, in journey order.
STAGE_LABELS: dict[str, str] = {
    "registered": "Registered",
    "waitlisted": "Waitlisted",
    "intake_scheduled": "Intake scheduled",
    "intake_completed": "Intake completed",
    "plan_agreed": "Plan agreed",
    "in_services": "In services",
    "follow_up_due": "Follow-up due",
    "follow_up_completed": "Follow-up completed",
    "closed": "Closed",
    "withdrawn": "Withdrawn",
    "not_eligible": "Not eligible",
    "referred_out": "Referred out",
}

# What a registration's cohort status means for the journey before the journey itself says so.
STAGE_AT_REGISTRATION: dict[str, str] = {
    "admitted": "registered",
    "waitlisted": "waitlisted",
    "outside_cohort": "not_eligible",
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
    return STAGE_LABELS.get(key) or key.replace("_", " ").capitalize()


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
    return StageState(STAGE_AT_REGISTRATION.get(cohort_status, "registered"), at)


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


def may_see(role: str, regions: list[str], company_region: str | None) -> bool:
    """Advisors see the companies of their regions; every other role sees the whole hub."""
    if role != "advisor":
        return True
    return company_region is not None and company_region in regions
