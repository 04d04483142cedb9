"""Webhooks, failures, opt-out and previews on real infrastructure: a webhook receiver over real HTTP
checks the HMAC signature; a message that keeps failing is failed after the last attempt, reported
and alerted to staff; a contact unsubscribes through the link in a reminder, without an account;
staff preview any template in either language."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from edih.infra import free_port
from services.notifications import unsubscribe
from shared.auth import issue_token
from shared.clock import SystemClock
from shared.contracts.notifications import RecipientRef
from tests.integration import test_notifications_delivery as support
from tests.integration.test_notifications_delivery import (
    Notifications,
    new_company,
    published,
    run_notifications,
)
from tests.integration.test_notifications_timing import with_status
from tests.support.served import served
from tests.support.waiting import eventually

# The stand-ins of the delivery tests: a real SMTP server and the recipients endpoints.
mail, intake, running, notifications = support.mail, support.intake, support.running, support.notifications

SECRET = "a-receivers-shared-secret"
QUESTIONNAIRE = {"questionnaire_url": "https://edih.example/q/abc"}
FAST_RETRIES: dict[str, Any] = {
    "notification_retry_base_seconds": 0.05, "notification_retry_cap_seconds": 0.2, "poll_seconds": 0.05,
}


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A staff tool's webhook endpoint on a real port; it answers 503 while `failures` last."""

    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    refused: int = 0
    failures: int = 0
    _serving: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = FastAPI()

        @app.post("/hooks/{path:path}")
        async def hook(path: str, request: Request) -> Response:
            if self.failures > 0:
                self.failures -= 1
                self.refused += 1
                return Response(status_code=503)
            self.calls.append(Call(path, {k.lower(): v for k, v in request.headers.items()},
                                   await request.body()))
            return Response(status_code=204)

        await self._serving.enter_async_context(served(app, "webhook receiver", self.port))

    async def stop(self) -> None:
        await self._serving.aclose()

    async def received(self, count: int = 1) -> list[Call]:
        async def enough() -> list[Call]:
            return self.calls if len(self.calls) >= count else []

        return await eventually(enough, message=f"{count} webhook call(s)")


@pytest.fixture
async def receiver() -> Any:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


def verified(call: Call, secret: str = SECRET) -> dict[str, Any]:
    """The payload, after checking the signature as a receiver does (hmac, not the service's code)."""
    timestamp = call.headers["x-edih-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + call.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call.headers["x-edih-signature"], f"sha256={expected}")
    return json.loads(call.body)  # type: ignore[no-any-return]


def advisor(intake: support.Intake, staff_id: str, email: str, language: str = "nl") -> RecipientRef:
    intake.advisors[staff_id] = {"name": "Sanne Bakker", "email": email, "language": language}
    return RecipientRef(service="console", kind="advisor", id=staff_id)


async def test_a_staff_escalation_is_mailed_and_posted_signed_to_the_staff_tool(
    running, settings, mail, intake, receiver
):
    hook = f"{receiver.url}/hooks/T0SECRET/B0SECRET"
    async with run_notifications(settings, mail, intake, notification_webhooks={"staff-escalation": [hook]},
                                 notification_webhook_secret=SECRET) as service:
        company_id = str(uuid.uuid4())
        notification_id = f"escalation-{company_id}"
        await service.request(
            company_id, notification_id, "staff-escalation", "staff-alert",
            context={"summary": "Scan T0 te laat", "overdue_since": "2026-03-20"},
            recipient=advisor(intake, "12", "sanne@edih-noord.nl"),
        )
        message = await mail.wait_for("sanne@edih-noord.nl")
        assert message["Subject"] == "[EDIH Noord-Nederland] Escalatie: Scan T0 te laat"
        assert message.get_body(("plain",)).get_content().startswith("Beste Sanne Bakker,")

        (call,) = await receiver.received()
        payload = verified(call)
        assert call.path == "T0SECRET/B0SECRET"
        assert (payload["notification_id"], payload["company_id"]) == (notification_id, company_id)
        assert payload["subject"] == message["Subject"]
        assert "Te laat sinds vrijdag 20 maart 2026." in payload["text"]
        with pytest.raises(AssertionError):
            verified(call, secret="another-secret")

        rows = await eventually(lambda: _all_sent(service, company_id, 2))
        assert sorted((r["channel"], r["destination"]) for r in rows) == [
            ("email", None), ("webhook", receiver.url)]
        assert "SECRET" not in str(rows), "the log keeps no secret part of a webhook URL"


async def test_a_webhook_that_is_down_gets_the_message_once_when_back(
    running, settings, mail, intake, receiver
):
    receiver.failures = 2
    hook = f"{receiver.url}/hooks/alerts"
    async with run_notifications(settings, mail, intake, notification_webhooks={"staff-alert": [hook]},
                                 notification_webhook_secret=SECRET, **FAST_RETRIES) as service:
        company_id = str(uuid.uuid4())
        await service.request(company_id, f"alert-{company_id}", "staff-alert", "staff-alert",
                              context={"summary": "Intake nog niet gepland"},
                              recipient=advisor(intake, "3", "ops@edih-noord.nl"))
        (call,) = await receiver.received()
        assert verified(call)["message_type"] == "staff-alert"
        webhook = await eventually(lambda: _channel(service, company_id, "webhook", "sent"))
        assert webhook["attempts"] == 3 and receiver.refused == 2
        assert [a["outcome"] for a in webhook["history"]] == ["retry", "retry", "sent"]
        await mail.wait_for("ops@edih-noord.nl")
        await asyncio.sleep(0.3)  # room for a wrong second post to happen
        assert len(receiver.calls) == 1


async def test_after_the_last_attempt_a_delivery_fails_is_reported_and_staff_are_alerted(
    running, settings, mail, intake, receiver
):
    company_id, email = new_company(intake)
    intake.unavailable.add(company_id)
    ops = advisor(intake, "7", "ops@edih-noord.nl", language="en")
    async with run_notifications(
        settings, mail, intake, notification_max_attempts=3, notification_alert_staff_ids=[ops.id],
        notification_webhooks={"staff-alert": [f"{receiver.url}/hooks/alerts"]},
        notification_webhook_secret=SECRET, **FAST_RETRIES,
    ) as service:
        notification_id = f"welcome-{company_id}"
        await service.request_welcome(company_id, notification_id)

        failed = await eventually(lambda: _channel(service, company_id, "email", "failed", notification_id))
        assert failed["attempts"] == 3
        assert [a["outcome"] for a in failed["history"]] == ["retry", "retry", "failed"]
        assert "503" in failed["last_error"]
        (event,) = await published(settings, "notification-failed", notification_id)
        assert event.data["attempts"] == 3 and event.subject == company_id

        alert = await mail.wait_for("ops@edih-noord.nl")
        assert alert["Subject"] == "[EDIH Noord-Nederland] Alert: message not delivered"
        text = alert.get_body(("plain",)).get_content()
        assert notification_id in text and company_id in text and "after 3 attempts" in text
        (call,) = await receiver.received()
        assert verified(call)["context"]["failed_notification_id"] == notification_id
        assert mail.to(email) == [] and intake.lookups == 3
        token = issue_token(service.settings, "staff@edih.local", "viewer")
        listed = await service.http.get("/deliveries", params={"status": "failed"},
                                        headers={"Authorization": f"Bearer {token}"})
        assert [d["notification_id"] for d in listed.json()] == [notification_id]


async def test_an_unknown_recipient_fails_at_once(running, notifications, mail, intake):
    company_id = str(uuid.uuid4())  # intake knows no such company
    await notifications.request_welcome(company_id, f"welcome-{company_id}")
    failed = await eventually(lambda: _channel(notifications, company_id, "email", "failed"))
    assert failed["attempts"] == 1 and "knows no primary-contact" in failed["last_error"]
    (event,) = await published(notifications.settings, "notification-failed", f"welcome-{company_id}")
    assert event.data["attempts"] == 1


async def test_a_contact_who_unsubscribes_gets_no_more_reminders_but_still_what_is_essential(
    running, notifications, mail, intake
):
    company_id, email = new_company(intake, name="John Smith", language="en")
    await notifications.request(company_id, f"r1-{company_id}", "questionnaire-reminder", "reminder",
                                context=QUESTIONNAIRE)
    reminder = await mail.wait_for(email)
    assert reminder["Subject"] == "Reminder: your digital maturity assessment"
    link = reminder["List-Unsubscribe"].strip("<>")
    assert link in reminder.get_body(("plain",)).get_content()
    assert link.replace("&", "&amp;") in reminder.get_body(("html",)).get_content()
    path = link.removeprefix(notifications.settings.url_of("notifications"))

    page = await notifications.http.get(path)  # no account, no bearer token
    assert page.status_code == 200 and "Unsubscribe" in page.text and "<form" in page.text
    assert await notifications.opt_outs(company_id=company_id) == [], "opening the page records nothing"
    done = await notifications.http.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert (await notifications.http.post(path)).status_code == 200  # again: harmless
    (opt_out,) = await notifications.opt_outs(company_id=company_id)
    assert (opt_out["recipient_kind"], opt_out["recipient_ref_id"]) == ("primary-contact", company_id)
    assert opt_out["notification_id"] == f"r1-{company_id}"

    await notifications.request(company_id, f"r2-{company_id}", "follow-up-reminder", "reminder",
                                context=QUESTIONNAIRE)
    await notifications.request(company_id, f"i1-{company_id}", "financing-deadline", "information",
                                context={"instrument": "MIT", "deadline": "2026-04-30"})
    await notifications.request_welcome(company_id, f"welcome-{company_id}")
    for skipped_id in (f"r2-{company_id}", f"i1-{company_id}"):
        skipped = await eventually(lambda i=skipped_id: with_status(notifications, company_id, i, "skipped"))
        assert skipped["history"][0]["outcome"] == "skipped"
    await eventually(lambda: with_status(notifications, company_id, f"welcome-{company_id}", "sent"))
    subjects = [m["Subject"] for m in mail.to(email)]
    assert subjects == ["Reminder: your digital maturity assessment", "Welcome to EDIH Noord-Nederland"]
    assert mail.to(email)[1]["List-Unsubscribe"] is None


async def test_a_broken_unsubscribe_link_records_nothing(running, notifications):
    settings = notifications.settings
    valid = unsubscribe.issue(settings, RecipientRef(service="intake", kind="primary-contact", id="c-1"),
                              company_id="c-1", language="nl", notification_id="n-1", now=SystemClock().now(),
                              address_digest="0" * 64, region=None)
    tampered = valid[:-3] + ("AAA" if not valid.endswith("AAA") else "BBB")
    resubscribe = unsubscribe.resubscribe_token(settings, unsubscribe.read(settings, valid), person="0" * 64,
                                                now=SystemClock().now())
    for token in ("", "garbage", tampered, issue_token(settings, "someone", "admin"), resubscribe):
        for method in ("GET", "POST"):
            response = await notifications.http.request(method, "/unsubscribe", params={"token": token})
            assert response.status_code == 400 and "werkt niet meer" in response.text, token
    assert await notifications.opt_outs(company_id="c-1") == []
    assert (await notifications.http.get("/unsubscribe", params={"token": valid})).status_code == 200


async def test_staff_preview_any_template_in_either_language(running, notifications):
    headers = {"Authorization": f"Bearer {issue_token(notifications.settings, 'staff', 'viewer')}"}
    dutch = await notifications.http.get("/templates/financing-deadline/nl", headers=headers)
    english = await notifications.http.get("/templates/financing-deadline/en", headers=headers)
    assert dutch.json()["subject"] == "Deadline MIT haalbaarheidsproject: donderdag 30 april 2026"
    assert english.json()["subject"] == "Deadline MIT haalbaarheidsproject: Thursday 30 April 2026"
    assert english.json()["text"].startswith("Dear Anna Smith,")
    html = await notifications.http.get("/templates/questionnaire-reminder/en", params={"part": "html"},
                                        headers=headers)
    assert html.headers["content-type"].startswith("text/html") and "Unsubscribe</a>" in html.text
    for message_type in ("welcome", "staff-alert", "questionnaire-invitation"):  # essential: no link
        preview = (await notifications.http.get(f"/templates/{message_type}/en", headers=headers)).json()
        assert "unsubscribe" not in (preview["text"] + preview["html"]).lower(), message_type
    for path in ("/templates/newsletter/nl", "/templates/welcome/de"):
        assert (await notifications.http.get(path, headers=headers)).status_code == 422
    assert (await notifications.http.get("/templates/welcome/nl")).status_code == 401


async def test_a_preview_writes_dates_in_the_hubs_timezone(running, settings, mail, intake):
    async with run_notifications(settings, mail, intake, business_timezone="Europe/London") as service:
        headers = {"Authorization": f"Bearer {issue_token(service.settings, 'staff', 'viewer')}"}
        preview = await service.http.get("/templates/training-session-reminder/en", headers=headers)
        # The sample session starts at 12:30 UTC: 13:30 in London in April (14:30 in Amsterdam).
        assert "Tuesday 14 April 2026 at 13:30" in preview.json()["text"]


async def _channel(
    service: Notifications, company_id: str, channel: str, status: str, notification_id: str | None = None
) -> dict[str, Any] | None:
    for row in await service.deliveries(company_id):
        if row["channel"] == channel and row["status"] == status and (
            notification_id is None or row["notification_id"] == notification_id
        ):
            return row
    return None


async def _all_sent(service: Notifications, company_id: str, count: int) -> list[dict[str, Any]] | None:
    rows = await service.deliveries(company_id)
    return rows if len(rows) == count and all(r["status"] == "sent" for r in rows) else None


