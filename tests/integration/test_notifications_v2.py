"""v2 of `notification-requested` on real infrastructure (broker, database, a real SMTP server): a
message type only v2 names (`training-enrolment-promoted`) is mailed and reported sent in v2; a v2
request naming a type notifications' policy table does not know is a dead letter with its reason."""

from __future__ import annotations

from sqlmodel import col, select

from shared.clock import SystemClock
from shared.contracts import build_event
from shared.contracts.notifications import NotificationRequestedV2, RecipientRef
from shared.inbox import DeadLetter
from tests.integration import test_notifications_delivery as support
from tests.integration.test_notifications_delivery import new_company, published
from tests.support.waiting import eventually

intake, running, mail, notifications = support.intake, support.running, support.mail, support.notifications

SESSION = {"course_title": "Aan de slag met cobots", "course_title_en": "Getting started with cobots",
           "starts_at": "2026-04-14T12:30:00Z", "location": "Innovatiecluster Drachten"}


async def request_v2(service: support.Notifications, company_id: str, notification_id: str,
                     message_type: str) -> str:
    """Publish a v2 request as training does; its event id."""
    data = NotificationRequestedV2(
        hub_id="nl-noord", company_id=company_id, notification_id=notification_id,
        message_type=message_type, context=SESSION,
        recipient=RecipientRef(service="intake", kind="primary-contact", id=company_id),
    )
    _, event = build_event("notification-requested", data, sender="training", at=SystemClock().now())
    assert event.type == "eu.edih.notifications.notification-requested.v2"
    await service.publish(event)
    return event.id


async def test_a_v2_promotion_message_is_mailed_at_once_and_reported_sent_in_v2(
    running, notifications, mail, intake, settings
):
    company_id, email = new_company(intake, name="John Smith", language="en")
    notification_id = f"promoted-{company_id}"
    await request_v2(notifications, company_id, notification_id, "training-enrolment-promoted")

    message = await mail.wait_for(email)
    assert message["Subject"] == "You have a seat: Getting started with cobots"
    assert "you are now enrolled in the training" in message.get_body(("plain",)).get_content()

    (event,) = await published(settings, "notification-sent", notification_id, version=2)
    assert event.type == "eu.edih.notifications.notification-sent.v2"
    assert event.data["message_type"] == "training-enrolment-promoted"


async def test_a_v2_request_of_an_unknown_message_type_is_dead_lettered_with_its_reason(
    running, notifications, mail, intake
):
    company_id, _ = new_company(intake)
    event_id = await request_v2(notifications, company_id, f"odd-{company_id}", "carrier-pigeon")

    async def letter() -> list[DeadLetter]:
        async with notifications.ctx.db.reading() as session:
            query = select(DeadLetter).where(col(DeadLetter.event_id) == event_id)
            return list((await session.execute(query)).scalars().all())

    (dead,) = await eventually(letter, message="the request dead-lettered")
    assert "unknown message type 'carrier-pigeon'" in dead.error
    assert await notifications.deliveries(company_id) == []
    assert mail.received == []
