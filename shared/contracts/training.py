"""Events published by the training service: recommendations, enrolments, attendance, erasure.

Ids and facts only: a participant's name and e-mail stay in training (an enrolment id names them).
`contacts-erased` is intake's data model under training's own type: training forgot the company's
participants, so that notifications forgets its copies of their addresses.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Contract, EventData
from shared.contracts.intake import ContactsErased


class RecommendedCourse(BaseModel):
    """One course proposed to a company, for the dimension it improves."""

    model_config = ConfigDict(extra="ignore")

    course_id: str
    dimension: str = Field(description="The DMA dimension key, e.g. data_management.")
    score: float = Field(description="The company's score on that dimension (0-100).")


class TrainingRecommended(EventData):
    """Active courses that improve the company's weakest DMA dimensions."""

    trigger: Literal["assessment-completed", "service-requested"]
    courses: list[RecommendedCourse]
    plan_item_id: str | None = Field(None, description="The training need it was made for, if any.")


class EnrolmentFact(EventData):
    """The enrolment, its session and course."""

    enrolment_id: str
    session_id: str
    course_id: str


class EnrolmentConfirmed(EnrolmentFact):
    """A participant of the company has a seat in the session."""


class EnrolmentWaitlisted(EnrolmentFact):
    """The session was full: the participant waits in line."""

    position: int = Field(ge=1, description="The place in the session's waitlist.")


class EnrolmentPromoted(EnrolmentFact):
    """A seat freed and went to this waitlisted participant."""


class EnrolmentCancelled(EnrolmentFact):
    """The enrolment was cancelled (by staff, or because the company left the programme)."""

    reason: str


class AttendanceRecorded(EnrolmentFact):
    """Whether the participant attended the session."""

    attended: bool


def _event(name: str, model: type[EventData], description: str) -> Contract:
    return Contract(name, "training", "event", model, ("training",), description)


CONTRACTS: tuple[Contract, ...] = (
    _event(
        "training-recommended",
        TrainingRecommended,
        "Courses proposed for a company's weakest DMA dimensions.",
    ),
    _event("enrolment-confirmed", EnrolmentConfirmed, "A participant has a seat in a session."),
    _event("enrolment-waitlisted", EnrolmentWaitlisted, "A participant waits for a seat in a full session."),
    _event("enrolment-promoted", EnrolmentPromoted, "A freed seat went to a waitlisted participant."),
    _event("enrolment-cancelled", EnrolmentCancelled, "An enrolment was cancelled, with the reason."),
    _event("attendance-recorded", AttendanceRecorded, "A participant attended a session, or did not."),
    _event(
        "contacts-erased",
        ContactsErased,
        "Training forgot a company's participants (names, e-mail addresses).",
    ),
)
