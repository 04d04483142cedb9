"""Training's tables and the shapes they take over HTTP: courses (the catalogue), their sessions,
enrolments of a company's staff (the only personal data training holds), the companies it has heard
of, and training needs (the journey's plan items it answers). `MODELS` lists every table (its
migrations follow them).

SQLModel tiers: `XCreate` is what a client sends, `XUpdate` a change of the fields sent, `XPublic`
what the API returns, `X(table=True)` the row. Moments are stored in UTC; a client may give them in
the hub's local time (a naive moment is Europe/Amsterdam).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import StringConstraints, field_validator, model_validator
from sqlalchemy import JSON, Numeric, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.training.domain import (
    DIMENSIONS,
    PARTNERS,
    Attendance,
    CourseStatus,
    EnrolmentStatus,
    Format,
    Language,
    NeedStatus,
)
from shared.db import UTCDateTime


def new_id() -> str:
    return str(uuid.uuid4())


def _known_dimensions(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    unknown = [v for v in values if v not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown DMA dimension(s) {', '.join(unknown)}; one of {', '.join(DIMENSIONS)}")
    return list(dict.fromkeys(values))


def _known_partner(value: str | None) -> str | None:
    if value is not None and value not in PARTNERS:
        raise ValueError(f"unknown delivery partner {value!r}; one of {', '.join(PARTNERS)}")
    return value


def _cents(value: Decimal | None) -> Decimal | None:
    """Euro amounts with their cents, as the database keeps them (400 is 400.00)."""
    return None if value is None else value.quantize(Decimal("0.01"))


# Catalogue.


class CourseFields(SQLModel):
    title_nl: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    description_nl: str = Field(default="", max_length=4000)
    description_en: str = Field(default="", max_length=4000)
    topic: str = Field(min_length=1, max_length=100, description="e.g. cobots, data analytics")
    dimensions: list[str] = Field(
        min_length=1, sa_type=JSON, description=f"The DMA dimensions it improves: {', '.join(DIMENSIONS)}"
    )
    partner: str = Field(max_length=40, description=f"The delivery partner: {', '.join(PARTNERS)}")
    duration_hours: Decimal = Field(gt=0, max_digits=5, decimal_places=1, sa_type=Numeric(5, 1))
    format: Format = Field(sa_type=String(12))
    cost_per_participant_eur: Decimal = Field(ge=0, max_digits=10, decimal_places=2, sa_type=Numeric(10, 2))


class CourseCreate(CourseFields):
    _dimensions = field_validator("dimensions")(_known_dimensions)
    _partner = field_validator("partner")(_known_partner)
    _cost = field_validator("cost_per_participant_eur")(_cents)


class CourseUpdate(SQLModel):
    """A change to a course: only the fields sent change; `status: retired` takes it off the
    catalogue for new sessions and recommendations."""

    model_config = {"extra": "forbid"}  # type: ignore[assignment]

    title_nl: str | None = Field(default=None, min_length=1, max_length=200)
    title_en: str | None = Field(default=None, min_length=1, max_length=200)
    description_nl: str | None = Field(default=None, max_length=4000)
    description_en: str | None = Field(default=None, max_length=4000)
    topic: str | None = Field(default=None, min_length=1, max_length=100)
    dimensions: list[str] | None = Field(default=None, min_length=1)
    partner: str | None = None
    duration_hours: Decimal | None = Field(default=None, gt=0, max_digits=5, decimal_places=1)
    format: Format | None = None
    cost_per_participant_eur: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    status: CourseStatus | None = None

    _dimensions = field_validator("dimensions")(_known_dimensions)
    _partner = field_validator("partner")(_known_partner)
    _cost = field_validator("cost_per_participant_eur")(_cents)


class CoursePublic(CourseFields):
    id: str
    status: CourseStatus


class Course(CourseFields, table=True):
    __tablename__ = "courses"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str = Field(index=True)
    status: CourseStatus = Field(default="active", sa_type=String(10))
    created_at: datetime = Field(sa_type=UTCDateTime)


# Sessions.


class SessionCreate(SQLModel):
    """A session of a course; `starts_at` and `ends_at` in the hub's local time unless they carry
    an offset."""

    starts_at: datetime
    ends_at: datetime
    location: str | None = Field(default=None, max_length=300)
    link: str | None = Field(default=None, max_length=500, description="For an online session.")
    capacity: int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _where(self) -> SessionCreate:
        if not self.location and not self.link:
            raise ValueError("a session needs a location or a link")
        return self


class SessionUpdate(SQLModel):
    model_config = {"extra": "forbid"}  # type: ignore[assignment]

    capacity: int | None = Field(default=None, ge=1, le=1000)
    location: str | None = Field(default=None, max_length=300)
    link: str | None = Field(default=None, max_length=500)


class SessionPublic(SQLModel):
    id: str
    course_id: str
    starts_at: datetime
    ends_at: datetime
    starts_local: str = Field(description="The start in the hub's local time.")
    location: str | None
    link: str | None
    capacity: int
    confirmed: int
    waitlisted: int
    seats_left: int
    enrolment_closes_at: datetime


class CourseSession(SQLModel, table=True):
    """A session of a course. Its row is locked while an enrolment takes or frees a seat."""

    __tablename__ = "course_sessions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str = Field(index=True)
    course_id: str = Field(foreign_key="courses.id", index=True, max_length=36)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    location: str | None = None
    link: str | None = None
    capacity: int
    created_at: datetime = Field(sa_type=UTCDateTime)


# Enrolments.


class EnrolmentCreate(SQLModel):
    company_id: str = Field(min_length=1, max_length=36)
    participant_name: str = Field(min_length=1, max_length=200)
    # Deliberately loose, as intake's: the mail server is the real judge.
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")]
    role: str = Field(default="", max_length=100, description="The participant's job, e.g. operator")
    language: Language = "nl"

    @field_validator("participant_name", "role", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class EnrolmentCancel(SQLModel):
    reason: str = Field(min_length=1, max_length=500)


class AttendanceRecord(SQLModel):
    enrolment_id: str
    attendance: Attendance


class AttendanceList(SQLModel):
    participants: list[AttendanceRecord] = Field(min_length=1)


class EnrolmentPublic(SQLModel):
    id: str
    session_id: str
    course_id: str
    company_id: str
    participant_name: str | None
    email: str | None
    role: str | None
    language: Language
    status: EnrolmentStatus
    waitlist_position: int | None
    attendance: Attendance | None
    cancel_reason: str | None
    created_at: datetime


class Enrolment(SQLModel, table=True):
    """A participant of a company in a session. The name, e-mail and role are forgotten when the
    company's contacts are erased; the row stays for the anonymous counts."""

    __tablename__ = "enrolments"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str
    session_id: str = Field(foreign_key="course_sessions.id", index=True, max_length=36)
    course_id: str = Field(foreign_key="courses.id", index=True, max_length=36)
    company_id: str = Field(index=True, max_length=36)
    participant_name: str | None = None
    email: str | None = None
    role: str | None = None
    language: Language = Field(default="nl", sa_type=String(2))
    status: EnrolmentStatus = Field(sa_type=String(12))
    # The order of the waitlist: earlier enrolments are promoted first (None once seated).
    waitlist_position: int | None = None
    attendance: Attendance | None = Field(default=None, sa_type=String(10))
    cancel_reason: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# Companies and needs.


class TrainingCompany(SQLModel, table=True):
    """A company training has heard of: its region once `company-registered` arrived (advisors see
    their regions' companies), the stage it left the programme at, its T0 scores."""

    __tablename__ = "training_companies"

    id: str = Field(primary_key=True, max_length=36)
    hub_id: str
    region: str | None = Field(default=None, max_length=20)
    legal_name: str | None = Field(default=None, max_length=200)
    left_at_stage: str | None = Field(default=None, max_length=20)
    t0_scores: dict[str, float] | None = Field(default=None, sa_type=JSON)
    contacts_erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_seen_at: datetime = Field(sa_type=UTCDateTime)


class NeedCourse(SQLModel):
    course_id: str


class NeedComplete(SQLModel):
    reason: str = Field(default="marked complete by staff", min_length=1, max_length=500)


class NeedPublic(SQLModel):
    plan_item_id: str
    company_id: str
    title: str
    course_id: str | None
    status: NeedStatus
    attendees: int | None
    value_eur: Decimal | None
    completed_at: datetime | None
    cancel_reason: str | None


class Need(SQLModel, table=True):
    """A training need: a plan item the journey asked training to deliver."""

    __tablename__ = "needs"
    __table_args__ = (UniqueConstraint("hub_id", "plan_item_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str
    plan_item_id: str = Field(max_length=100)
    company_id: str = Field(index=True, max_length=36)
    title: str
    course_id: str | None = Field(default=None, foreign_key="courses.id", max_length=36)
    status: NeedStatus = Field(default="open", sa_type=String(10))
    attendees: int | None = None
    value_eur: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = None
    requested_at: datetime = Field(sa_type=UTCDateTime)


class RecommendationPublic(SQLModel):
    course_id: str
    title_nl: str
    title_en: str
    dimension: str
    score: float
    reason: str


class RecipientPublic(SQLModel):
    name: str
    email: str
    language: Language


MODELS: tuple[type[SQLModel], ...] = (Course, CourseSession, Enrolment, TrainingCompany, Need)
