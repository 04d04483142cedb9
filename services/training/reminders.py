"""What training asks notifications to send a participant: the session reminder, one hub business
day before the session's day at the start of business hours (`not_before`; notifications keeps to
it and to the message's policy), and, at once, the news that a waitlisted participant now has a
seat (`training-enrolment-promoted`, a message type only v2 of `notification-requested` names; the
reminder stays v1). The recipient is the enrolment, by reference: notifications asks
`GET /internal/recipients/participant/{id}` at send time, which answers 410 once the enrolment is
cancelled or erased, so a reminder to someone no longer enrolled is dropped there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.training import domain
from services.training.context import Training
from services.training.models import Course, CourseSession, Enrolment, TrainingCompany
from shared.contracts import derived_event_id
from shared.contracts.notifications import NotificationRequested, NotificationRequestedV2, RecipientRef

RECIPIENT_KIND = "participant"


def recipient(enrolment: Enrolment) -> RecipientRef:
    return RecipientRef(service="training", kind=RECIPIENT_KIND, id=enrolment.id)


def message_context(course: Course, row: CourseSession) -> dict[str, str]:
    """Template values of a message about a session (no personal data): the course's title in
    Dutch (`course_title`) and English (`course_title_en`, which the English message prefers), the
    start in UTC (the message shows it in the hub's timezone), and where or how to join."""
    values = {
        "course_title": course.title_nl,
        "course_title_en": course.title_en,
        "starts_at": row.starts_at.astimezone(UTC).isoformat(),
    }
    return values | {key: value for key, value in (("location", row.location), ("link", row.link)) if value}


async def request_reminder(
    session: AsyncSession, enrolment: Enrolment, row: CourseSession, training: Training, now: datetime
) -> None:
    """Ask for the session reminder of a confirmed participant (nothing once the session started)."""
    not_before = domain.reminder_moment(
        training.calendar, row.starts_at, training.settings.training_reminder_business_days, now
    )
    if not_before is None:
        return
    await _request(session, enrolment, row, training, NotificationRequested,
                   message_type="training-session-reminder", urgency="information", not_before=not_before)


async def request_promotion_message(
    session: AsyncSession, enrolment: Enrolment, row: CourseSession, training: Training
) -> None:
    """Tell a participant promoted from the waitlist that they now have a seat (a v2 request)."""
    await _request(session, enrolment, row, training, NotificationRequestedV2,
                   message_type="training-enrolment-promoted", urgency="transactional")


async def _request(
    session: AsyncSession,
    enrolment: Enrolment,
    row: CourseSession,
    training: Training,
    model: type[NotificationRequested],
    *,
    message_type: str,
    urgency: Literal["transactional", "information"],
    not_before: datetime | None = None,
) -> None:
    """Ask for one message of `message_type` about the session to the enrolment's participant; the
    model is the contract's version (the id is derived from the type and the enrolment, so a
    repeat asks nothing new)."""
    course = await session.get(Course, row.course_id)
    company = await session.get(TrainingCompany, enrolment.company_id)
    assert course is not None
    notification_id = derived_event_id(message_type, enrolment.id)
    await training.outbox.add(
        session,
        "notification-requested",
        model(
            hub_id=enrolment.hub_id,
            company_id=enrolment.company_id,
            notification_id=notification_id,
            message_type=message_type,
            urgency=urgency,
            recipient=recipient(enrolment),
            context=message_context(course, row),
            region=company.region if company else None,
            not_before=not_before,
        ),
        event_id=notification_id,
    )
