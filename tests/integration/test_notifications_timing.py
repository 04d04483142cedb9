"""When messages go out, on the service's injectable clock and the hub calendar, with a real broker,
database (SQLite and PostgreSQL), SMTP server and recipients endpoint: reminders wait for the next
business morning across a weekend, King's Day and Christmas, also when a retry falls after hours; a
company gets at most the daily number of reminders; an erasure removes the contact's address from
the delivery log and stops what waits; senders racing for one due message send it once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.clock import FixedClock
from shared.contracts.notifications import RecipientRef
from tests.integration import test_notifications_delivery as support
from tests.integration.test_notifications_delivery import (
    Notifications,
    erase_contacts,
    new_company,
    published,
    run_notifications,
)
from tests.support.waiting import eventually

# The stand-ins of the delivery tests: a real SMTP server and the recipients endpoints.
mail, intake, running = support.mail, support.intake, support.running

AMS = ZoneInfo("Europe/Amsterdam")
QUESTIONNAIRE = {"questionnaire_url": "https://edih.example/q/abc", "deadline": "2026-12-31"}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


async def delivery_of(service: Notifications, company_id: str, notification_id: str) -> dict[str, Any] | None:
    rows = await service.deliveries(company_id)
    return next((r for r in rows if r["notification_id"] == notification_id), None)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize(("requested", "expected"), [
    pytest.param((2026, 3, 6, 17, 45), (2026, 3, 9, 8, 30), id="friday-evening-to-monday"),
    pytest.param((2026, 4, 24, 18, 0), (2026, 4, 28, 8, 30), id="over-kings-day"),
    pytest.param((2026, 12, 24, 17, 45), (2026, 12, 28, 8, 30), id="over-christmas"),
])
async def test_a_reminder_out_of_hours_goes_on_the_next_business_morning(
    running, settings, mail, intake, requested, expected
):
    clock = FixedClock(local(*requested))
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True) as service:
        company_id, email = new_company(intake)
        notification_id = f"reminder-{company_id}"
        await service.request(company_id, notification_id, "questionnaire-reminder", "reminder",
                              context=QUESTIONNAIRE)

        waiting = await eventually(lambda: delivery_of(service, company_id, notification_id))
        assert waiting["status"] == "pending" and at(waiting["send_at"]) == local(*expected)
        (scheduled,) = await published(settings, "notification-scheduled", notification_id)
        assert at(scheduled.data["send_at"]) == local(*expected)

        clock.moment = local(*expected) - timedelta(minutes=1)
        assert await service.app.state.sender.send_due() == 0
        assert mail.to(email) == []

        clock.moment = local(*expected)
        service.app.state.sender.wake()
        message = await mail.wait_for(email)
        assert message["Subject"] == "Herinnering: uw scan digitale volwassenheid"
        sent = await eventually(lambda: _sent(service, company_id, notification_id))
        assert at(sent["sent_at"]) == local(*expected)


async def test_a_request_for_a_later_moment_waits_for_it_and_then_for_business_hours(
    running, settings, mail, intake
):
    clock = FixedClock(local(2026, 3, 3, 10, 0))  # a Tuesday
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True) as service:
        company_id, email = new_company(intake)
        session = {"course_title": "Cobots", "starts_at": "2026-03-09T09:00:00+00:00"}
        await service.request(company_id, f"friday-{company_id}", "training-session-reminder", "information",
                              context=session, not_before=local(2026, 3, 6, 8, 30))
        # Its moment falls on a Saturday: it goes on Monday morning.
        await service.request(company_id, f"saturday-{company_id}", "training-session-reminder",
                              "information", context=session, not_before=local(2026, 3, 7, 9, 0))

        friday = await eventually(lambda: delivery_of(service, company_id, f"friday-{company_id}"))
        monday = await eventually(lambda: delivery_of(service, company_id, f"saturday-{company_id}"))
        assert at(friday["send_at"]) == local(2026, 3, 6, 8, 30)
        assert at(monday["send_at"]) == local(2026, 3, 9, 8, 30)
        (scheduled,) = await published(settings, "notification-scheduled", f"friday-{company_id}")
        assert at(scheduled.data["send_at"]) == local(2026, 3, 6, 8, 30)

        clock.moment = local(2026, 3, 6, 8, 29)
        assert await service.app.state.sender.send_due() == 0
        clock.moment = local(2026, 3, 6, 8, 30)
        service.app.state.sender.wake()
        await mail.wait_for(email, message="the reminder on Friday morning")
        assert (await delivery_of(service, company_id, f"saturday-{company_id}"))["status"] == "pending"


async def test_every_participant_of_a_company_gets_a_session_reminder_the_same_day(
    running, settings, mail, intake
):
    clock = FixedClock(local(2026, 3, 3, 10, 0))
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True,
                                 notification_max_reminders_per_day=2) as service:
        company_id, email = new_company(intake)
        session = {"course_title": "Cobots", "starts_at": "2026-03-04T09:00:00+00:00"}
        for participant in range(3):
            await service.request(company_id, f"p{participant}-{company_id}", "training-session-reminder",
                                  "information", context=session)
        # Three on one day despite a cap of two: the cap would push one past its session.
        await eventually(lambda: _count(mail, email, 3), message="three session reminders today")
        assert {m["Subject"] for m in mail.to(email)} == {"Herinnering: Cobots"}


async def test_a_welcome_on_a_sunday_night_goes_at_once(running, settings, mail, intake):
    clock = FixedClock(local(2026, 3, 8, 23, 30))
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True) as service:
        company_id, email = new_company(intake)
        await service.request_welcome(company_id, f"welcome-{company_id}")
        await mail.wait_for(email)
        sent = await eventually(lambda: _sent(service, company_id, f"welcome-{company_id}"))
        assert at(sent["sent_at"]) == local(2026, 3, 8, 23, 30)


async def test_a_company_gets_at_most_the_daily_number_of_reminders(running, settings, mail, intake):
    tuesday = local(2026, 3, 3, 10, 0)
    clock = FixedClock(tuesday)
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True,
                                 notification_max_reminders_per_day=2) as service:
        company_id, email = new_company(intake)
        reminders = [
            ("questionnaire-reminder", QUESTIONNAIRE),
            ("follow-up-reminder", {"questionnaire_url": "https://edih.example/q/t1"}),
            ("training-session-reminder", {"course_title": "Cobots", "starts_at": "2026-03-10T09:00Z"}),
        ]
        for number, (message_type, context) in enumerate(reminders):
            await service.request(company_id, f"r{number}-{company_id}", message_type, "reminder",
                                  context=context)
        await service.request_welcome(company_id, f"welcome-{company_id}")

        await eventually(lambda: _count(mail, email, 3), message="two reminders and the welcome")
        third = await eventually(lambda: delivery_of(service, company_id, f"r2-{company_id}"))
        assert third["status"] == "pending"
        assert at(third["send_at"]) == local(2026, 3, 4, 8, 30)
        await published(settings, "notification-scheduled", f"r2-{company_id}")
        assert await service.app.state.sender.send_due() == 0
        subjects = sorted(m["Subject"] for m in mail.to(email))
        assert subjects == ["Herinnering: uw scan digitale volwassenheid", "Herinnering: uw vervolgscan",
                            "Welkom bij EDIH Noord-Nederland"]

        clock.moment = local(2026, 3, 4, 8, 30)
        service.app.state.sender.wake()
        await eventually(lambda: _count(mail, email, 4), message="the third reminder on Wednesday")
        assert mail.to(email)[-1]["Subject"] == "Herinnering: Cobots"


async def test_a_reminder_requested_as_transactional_still_waits_for_business_hours(
    running, settings, mail, intake
):
    sunday_night = local(2026, 3, 8, 23, 30)
    clock = FixedClock(sunday_night)
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True) as service:
        company_id, email = new_company(intake)
        await service.request(company_id, f"reminder-{company_id}", "questionnaire-reminder",
                              "transactional", context=QUESTIONNAIRE)
        await service.request(company_id, f"invitation-{company_id}", "questionnaire-invitation",
                              "transactional", context=QUESTIONNAIRE)
        await service.request_welcome(company_id, f"welcome-{company_id}")
        await mail.wait_for(email, message="the welcome, at once")

        for notification_id in (f"reminder-{company_id}", f"invitation-{company_id}"):
            waiting = await eventually(lambda n=notification_id: delivery_of(service, company_id, n))
            assert waiting["status"] == "pending" and at(waiting["send_at"]) == local(2026, 3, 9, 8, 30)
            assert (waiting["urgency"], waiting["timing"]) == ("transactional", "business-hours")
        assert [m["Subject"] for m in mail.to(email)] == ["Welkom bij EDIH Noord-Nederland"]

        clock.moment = local(2026, 3, 9, 8, 30)
        service.app.state.sender.wake()
        await eventually(lambda: _count(mail, email, 3), message="both on Monday morning")
        by_subject = {m["Subject"]: m for m in mail.to(email)}
        # The reminder is non-essential whatever its request said; the invitation is essential.
        assert by_subject["Herinnering: uw scan digitale volwassenheid"]["List-Unsubscribe"]
        assert by_subject["Uw scan digitale volwassenheid staat klaar"]["List-Unsubscribe"] is None


async def test_a_reminder_requested_as_transactional_is_capped_and_refused_after_opt_out(
    running, settings, mail, intake
):
    tuesday = local(2026, 3, 3, 10, 0)
    clock = FixedClock(tuesday)
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True,
                                 notification_max_reminders_per_day=1) as service:
        company_id, email = new_company(intake)
        for number in (1, 2):
            await service.request(company_id, f"r{number}-{company_id}", "follow-up-reminder",
                                  "transactional", context={"questionnaire_url": "https://edih.example/q/t1"})
        first = await mail.wait_for(email)
        second = await eventually(lambda: delivery_of(service, company_id, f"r2-{company_id}"))
        assert second["status"] == "pending" and at(second["send_at"]) == local(2026, 3, 4, 8, 30)

        # The contact unsubscribes with the link the first one carried.
        link = first["List-Unsubscribe"].strip("<>")
        done = await service.http.post(link.removeprefix(service.settings.url_of("notifications")))
        assert done.status_code == 200

        clock.moment = local(2026, 3, 4, 8, 30)
        service.app.state.sender.wake()
        skipped = await eventually(lambda: with_status(service, company_id, f"r2-{company_id}", "skipped"))
        assert skipped["history"][0]["outcome"] == "skipped"
        assert len(mail.to(email)) == 1


async def test_erased_contacts_leave_no_address_in_the_log_and_get_nothing_more(
    running, settings, mail, intake
):
    clock = FixedClock(local(2026, 3, 7, 11, 0))  # a Saturday: the reminder waits for Monday
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True) as service:
        company_id, email = new_company(intake)
        await service.request_welcome(company_id, f"welcome-{company_id}")
        await service.request(company_id, f"reminder-{company_id}", "questionnaire-reminder", "reminder",
                              context=QUESTIONNAIRE)
        await eventually(lambda: _sent(service, company_id, f"welcome-{company_id}"))
        assert email in str(await service.deliveries(company_id))

        await erase_contacts(service, company_id)

        async def all_erased() -> list[dict[str, Any]] | None:
            rows = await service.deliveries(company_id)
            return rows if all(r["erased_at"] for r in rows) else None

        rows = await eventually(all_erased, message="the log erased")
        assert email not in str(rows)
        assert [(r["notification_id"], r["status"]) for r in rows] == [
            (f"welcome-{company_id}", "sent"), (f"reminder-{company_id}", "cancelled")]

        clock.moment = local(2026, 3, 9, 8, 30)
        assert await service.app.state.sender.send_due() == 0
        assert len(mail.to(email)) == 1


async def test_trainings_erasure_cancels_what_waits_for_its_participants_and_nothing_else(
    running, settings, mail, intake
):
    clock = FixedClock(local(2026, 3, 7, 11, 0))  # a Saturday: both wait for Monday
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True) as service:
        company_id, _ = new_company(intake)
        participant = RecipientRef(service="training", kind="participant", id=str(uuid.uuid4()))
        await service.request(company_id, f"session-{company_id}", "training-session-reminder", "information",
                              context={"course_title": "Cobots", "starts_at": "2026-03-10T09:00:00+00:00"},
                              recipient=participant)
        await service.request(company_id, f"reminder-{company_id}", "questionnaire-reminder", "reminder",
                              context=QUESTIONNAIRE)
        await eventually(lambda: delivery_of(service, company_id, f"reminder-{company_id}"))

        await erase_contacts(service, company_id, owner="training")

        cancelled = await eventually(lambda: with_status(service, company_id, f"session-{company_id}",
                                                         "cancelled"), message="training's erasure applied")
        assert cancelled["last_error"] == "the company's contacts were erased"
        # Intake's contact is not training's: the questionnaire reminder still waits.
        assert (await delivery_of(service, company_id, f"reminder-{company_id}"))["status"] == "pending"


async def _sent(service: Notifications, company_id: str, notification_id: str) -> dict[str, Any] | None:
    return await with_status(service, company_id, notification_id, "sent")


async def with_status(
    service: Notifications, company_id: str, notification_id: str, status: str
) -> dict[str, Any] | None:
    row = await delivery_of(service, company_id, notification_id)
    return row if row and row["status"] == status else None


async def _count(server: support.MailServer, email: str, count: int) -> bool:
    return len(server.to(email)) >= count


async def test_senders_racing_for_a_due_message_send_it_once(running, settings, mail, intake):
    # Several senders (as several instances would) find the same due reminder at the same moment.
    clock = FixedClock(local(2026, 3, 7, 11, 0))
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True,
                                 poll_seconds=60) as service:
        company_id, email = new_company(intake)
        notification_id = f"reminder-{company_id}"
        await service.request(company_id, notification_id, "questionnaire-reminder", "reminder",
                              context=QUESTIONNAIRE)
        await eventually(lambda: delivery_of(service, company_id, notification_id))

        clock.moment = local(2026, 3, 9, 8, 30)
        sender = service.app.state.sender
        claimed = await asyncio.gather(*(sender.send_due() for _ in range(4)))
        assert sum(claimed) == 1
        await eventually(lambda: _sent(service, company_id, notification_id))
        assert len(mail.to(email)) == 1


async def test_a_reminder_whose_retry_falls_after_hours_waits_for_the_next_business_morning(
    settings, mail, intake
):
    await intake.start()  # the mail server is down
    clock = FixedClock(local(2026, 3, 6, 17, 0))  # a Friday
    async with run_notifications(settings, mail, intake, clock=clock, business_hours_enabled=True,
                                 notification_retry_base_seconds=0.05, poll_seconds=0.05) as service:
        company_id, email = new_company(intake)
        notification_id = f"reminder-{company_id}"
        await service.request(company_id, notification_id, "questionnaire-reminder", "reminder",
                              context=QUESTIONNAIRE)
        await eventually(lambda: _attempted(service, company_id, notification_id), message="a failed attempt")

        clock.moment = local(2026, 3, 6, 17, 45)

        async def postponed() -> dict[str, Any] | None:
            row = await delivery_of(service, company_id, notification_id)
            return row if row and at(row["send_at"]) == local(2026, 3, 9, 8, 30) else None

        waiting = await eventually(postponed, message="the retry moved to Monday morning")
        assert waiting["status"] == "pending"
        await mail.start()
        assert await service.app.state.sender.send_due() == 0
        assert mail.to(email) == []

        clock.moment = local(2026, 3, 9, 8, 30)
        await mail.wait_for(email)
        sent = await eventually(lambda: _sent(service, company_id, notification_id))
        assert at(sent["sent_at"]) == local(2026, 3, 9, 8, 30)
    await intake.stop()
    await mail.stop()


async def _attempted(service: Notifications, company_id: str, notification_id: str) -> bool:
    row = await delivery_of(service, company_id, notification_id)
    return bool(row and row["attempts"] >= 1)
