"""When a message cannot be delivered, on real infrastructure (broker, database, a real SMTP server,
the real console answering for staff over HTTP): with default settings a failure alerts the advisor
of the company's region, or else an administrator; a final answer of the mail server fails the
message at once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from services.console.app import create_app as create_console
from services.console.auth import hash_password
from services.console.models import StaffAccount
from services.console.settings import ConsoleSettings
from shared.settings import Settings
from tests.integration import test_notifications_delivery as support
from tests.integration.test_notifications_delivery import published, run_notifications
from tests.integration.test_notifications_timing import with_status
from tests.support.served import served
from tests.support.waiting import eventually

# The stand-ins of the delivery tests: intake's recipients endpoint, and a real SMTP server (here
# one that can refuse some addresses for good).
intake, running = support.intake, support.running

# The console's first administrator (the default: these tests do not set one).
ADMIN_EMAIL = ConsoleSettings.model_fields["console_admin_email"].default


class RefusingMailServer(support.MailServer):
    """A real SMTP server that answers 550 to the DATA of a message to an address in `refused`."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refused & set(envelope.rcpt_tos):
            return "550 5.7.1 Message rejected by policy"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def mail() -> RefusingMailServer:
    return RefusingMailServer()


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[tuple[FastAPI, str]]:
    """The real console (its first administrator from the settings) on a real port."""
    app = create_console(settings)
    async with served(app) as url:
        yield app, url


async def add_advisor(console: FastAPI, email: str, regions: list[str]) -> None:
    async with console.state.ctx.db.transaction() as session:
        session.add(StaffAccount(email=email, name="Anna Bakker", language="nl", role="advisor",
                                 regions=regions, password_hash=hash_password("x"),
                                 created_at=datetime(2026, 3, 2, tzinfo=UTC)))


async def test_with_default_settings_a_failure_alerts_the_regions_advisor_or_else_an_administrator(
    running, settings, mail, intake, console
):
    app, console_url = console
    await add_advisor(app, "anna@edih.local", ["drenthe"])
    async with run_notifications(settings, mail, intake, console_url=console_url) as service:
        assert service.settings.notification_alert_staff_ids == []
        # Intake knows neither company: each welcome fails for good at its first attempt.
        in_drenthe, nowhere = str(uuid.uuid4()), str(uuid.uuid4())
        await service.request_welcome(in_drenthe, f"welcome-{in_drenthe}", region="drenthe")
        await service.request_welcome(nowhere, f"welcome-{nowhere}")

        alert = await mail.wait_for("anna@edih.local", message="the alert to drenthe's advisor")
        assert alert["Subject"] == "[EDIH Noord-Nederland] Signaal: bericht niet afgeleverd"
        text = alert.get_body(("plain",)).get_content()
        assert text.startswith("Beste Anna Bakker,") and f"welcome-{in_drenthe}" in text
        admin_alert = await mail.wait_for(ADMIN_EMAIL, message="the alert to the admin")
        assert f"welcome-{nowhere}" in admin_alert.get_body(("plain",)).get_content()
        assert len(mail.received) == 2

        async def drenthes_log() -> list[tuple[str, str]]:
            rows = await service.log("advisor", ["drenthe"])
            return sorted((r["message_type"], r["status"]) for r in rows)

        # The advisor sees the failure and the alert about their region, and nothing of the other.
        expected = [("staff-alert", "sent"), ("welcome", "failed")]
        await eventually(lambda: _equal(drenthes_log, expected), message=f"drenthe's log shows {expected}")
        await published(settings, "notification-failed", f"welcome-{in_drenthe}")


async def _equal(probe: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    return await probe() == expected


async def test_a_mail_server_refusing_the_message_for_good_fails_it_at_once(
    running, settings, mail, intake, console
):
    _, console_url = console
    company_id, email = support.new_company(intake)
    mail.refused.add(email)
    async with run_notifications(settings, mail, intake, console_url=console_url) as service:
        notification_id = f"welcome-{company_id}"
        await service.request_welcome(company_id, notification_id)

        failed = await eventually(lambda: with_status(service, company_id, notification_id, "failed"),
                                  message="the welcome failed")
        assert failed["attempts"] == 1 and [a["outcome"] for a in failed["history"]] == ["failed"]
        assert "550 5.7.1 Message rejected by policy" in failed["last_error"]
        (event,) = await published(settings, "notification-failed", notification_id)
        assert event.data["attempts"] == 1
        alert = await mail.wait_for(ADMIN_EMAIL, message="the staff alert")
        assert notification_id in alert.get_body(("plain",)).get_content()
        assert mail.to(email) == []


async def test_after_an_erasure_a_message_to_a_contact_intake_no_longer_knows_is_cancelled_quietly(
    running, settings, mail, intake
):
    async with run_notifications(settings, mail, intake) as service:
        company_id, email = support.new_company(intake)
        erasure = await support.erase_contacts(service, company_id)
        await eventually(lambda: service.processed(erasure.id), message="the erasure consumed")
        del intake.contacts[company_id]  # intake answers 404 from now on

        notification_id = f"reminder-{company_id}"
        await service.request(company_id, notification_id, "questionnaire-reminder", "reminder")
        cancelled = await eventually(lambda: with_status(service, company_id, notification_id, "cancelled"),
                                     message="the reminder cancelled")
        assert cancelled["attempts"] == 0 and [a["outcome"] for a in cancelled["history"]] == ["cancelled"]
        assert "knows no primary-contact" in cancelled["last_error"]
        assert "contacts were erased" in cancelled["last_error"]
        # No failure and no staff alert: the alert would be in the log, written with the failure.
        assert [r["message_type"] for r in await service.deliveries(company_id)] == ["questionnaire-reminder"]
        assert mail.to(email) == []

        # Without an erasure, an unknown contact is still a failure staff hear about.
        other = str(uuid.uuid4())
        await service.request_welcome(other, f"welcome-{other}")
        await eventually(lambda: with_status(service, other, f"welcome-{other}", "failed"))
        alerts = await eventually(lambda: _alerts(service, other), message="the staff alert planned")
        assert alerts == ["staff-alert"]


async def _alerts(service: Any, company_id: str) -> list[str]:
    rows = await service.deliveries(company_id)
    return [r["message_type"] for r in rows if r["message_type"] == "staff-alert"]
