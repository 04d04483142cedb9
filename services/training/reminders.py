"""What training asks notifications to send a participant: the session reminder, one hub business
day before the session's day at the start of business hours (`not_before`; notifications keeps to
it and to the message's policy). The recipient is the enrolment, by reference: notifications asks
`GET /internal/recipients/participant/{id}` at send time, which answers 410 once the enrolment is
cancelled or erased, so a reminder to someone no longer enrolled is dropped there."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.training import domain
from services.training.context import Training
from services.training.models import Course, CourseSession, Enrolment, TrainingCompany
from shared.contracts import derived_event_id
from shared.contracts.notifications import NotificationRequested, RecipientRef

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
    course = await session.get(Course, row.course_id)
    company = await session.get(TrainingCompany, enrolment.company_id)
    assert course is not None
    notification_id = derived_event_id("training-session-reminder", enrolment.id)
    await training.outbox.add(
        session,
        "notification-requested",
        NotificationRequested(
            hub_id=enrolment.hub_id,
            company_id=enrolment.company_id,
            notification_id=notification_id,
            message_type="training-session-reminder",
            urgency="information",
            recipient=recipient(enrolment),
            context=message_context(course, row),
            region=company.region if company else None,
            not_before=not_before,
        ),
        event_id=notification_id,
    )
