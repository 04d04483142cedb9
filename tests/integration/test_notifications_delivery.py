"""The welcome e-mail end to end on real infrastructure: a real Tansu broker, the service's database
(SQLite and PostgreSQL), a real SMTP server (aiosmtpd) and intake's recipients endpoint served over
real HTTP. A requested notification reaches the resolved address once, in the contact's language;
repeats send nothing more; a mail server or intake that is down delays the message, never loses it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Annotated, Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiosmtpd.controller import Controller
from fastapi import Depends, FastAPI, HTTPException
from sqlmodel import col, func, select

from edih.infra import free_port
from services.notifications.app import create_app
from services.notifications.settings import NotificationSettings
from shared.auth import Principal, issue_token, require
from shared.clock import Clock, SystemClock
from shared.contracts import CloudEvent, build_event
from shared.contracts.intake import ContactsErased
from shared.contracts.notifications import NotificationRequested, RecipientRef
from shared.inbox import ProcessedEvent
from shared.service import ServiceContext
from shared.settings import Settings
from tests.support.served import served
from tests.support.waiting import eventually


class MailServer:
    """A real SMTP server on loopback that keeps what it receives; it can start late. `options` go
    to aiosmtpd (TLS, STARTTLS, authentication)."""

    def __init__(self, **options: Any) -> None:
        self.port = free_port()
        self.options = options
        self.received: list[EmailMessage] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    async def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **self.options)
        await asyncio.to_thread(self.controller.start)

    async def stop(self) -> None:
        if self.controller is not None:
            await asyncio.to_thread(self.controller.stop)
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["X-Envelope-To"] == address]

    async def wait_for(self, address: str, timeout: float = 20.0, message: str = "") -> EmailMessage:
        """The first message that reached `address`."""

        async def arrived() -> list[EmailMessage]:
            return self.to(address)

        found = await eventually(arrived, timeout=timeout, interval=0.01,
                                 message=message or f"a message to {address}")
        return found[0]


@dataclass
class Intake:
    """The recipients endpoints of intake (primary contacts) and the console (advisors) as
    notifications sees them, on a real port; it can start late, and answer 503 for some."""

    settings: Settings
    port: int = field(default_factory=free_port)
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)
    advisors: dict[str, dict[str, str]] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)
    lookups: int = 0
    _serving: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> FastAPI:
        app = FastAPI()
        app.state.settings = self.settings

        @app.get("/internal/recipients/primary-contact/{company_id}")
        async def primary_contact(
            company_id: str, _: Annotated[Principal, Depends(require("service"))]
        ) -> dict[str, str]:
            self.lookups += 1
            if company_id in self.unavailable:
                raise HTTPException(503, "intake is struggling")
            if company_id not in self.contacts:
                raise HTTPException(404, "no such company")
            return self.contacts[company_id]

        @app.get("/internal/recipients/advisor/{staff_id}")
        async def advisor(
            staff_id: str, _: Annotated[Principal, Depends(require("service"))]
        ) -> dict[str, str]:
            if staff_id not in self.advisors:
                raise HTTPException(404, "no such staff account")
            return self.advisors[staff_id]

        return app

    async def start(self) -> None:
        await self._serving.enter_async_context(served(self.app(), "intake stand-in", self.port))

    async def stop(self) -> None:
        await self._serving.aclose()


@dataclass
class Notifications:
    """The notifications service running in-process, and ways to talk to it as its neighbours do."""

    app: FastAPI
    settings: Settings
    http: httpx.AsyncClient

    @property
    def ctx(self) -> ServiceContext:
        return self.app.state.ctx  # type: ignore[no-any-return]

    async def request_welcome(
        self, company_id: str, notification_id: str, event_id: str | None = None, region: str | None = None
    ) -> CloudEvent:
        """Put a notification-requested on the commands topic, as the journey does."""
        return await self.request(company_id, notification_id, "welcome", event_id=event_id, region=region)

    async def request(
        self, company_id: str, notification_id: str, message_type: str, urgency: str = "transactional",
        *, context: dict[str, str] | None = None, recipient: RecipientRef | None = None,
        event_id: str | None = None, region: str | None = None, not_before: datetime | None = None,
    ) -> CloudEvent:
        """Request any message; to the company's primary contact unless another recipient is named."""
        data = NotificationRequested(
            hub_id="nl-noord", company_id=company_id, notification_id=notification_id,
            message_type=message_type, urgency=urgency, context=context or {},  # type: ignore[arg-type]
            recipient=recipient or RecipientRef(service="intake", kind="primary-contact", id=company_id),
            region=region, not_before=not_before,
        )
        _, event = build_event("notification-requested", data, sender="journey",
                               at=SystemClock().now(), event_id=event_id)
        await self.publish(event)
        return event

    async def publish(self, event: CloudEvent, topic: str = "edih.notifications.commands") -> None:
        await self.ctx.broker.publish(
            event.to_bytes(), self.settings.topic(topic), key=event.subject.encode()
        )

    async def deliveries(self, company_id: str, role: str = "admin") -> list[dict[str, Any]]:
        return await self.log(role, company_id=company_id)

    async def log(self, role: str, regions: list[str] | None = None, **params: str) -> list[dict[str, Any]]:
        """`GET /deliveries` as a staff member with `role` (and, for an advisor, `regions`)."""
        return await self.staff_list("/deliveries", role, regions, **params)

    async def opt_outs(
        self, role: str = "admin", regions: list[str] | None = None, **params: str
    ) -> list[dict[str, Any]]:
        """`GET /opt-outs` as a staff member with `role` (and, for an advisor, `regions`)."""
        return await self.staff_list("/opt-outs", role, regions, **params)

    async def staff_list(
        self, path: str, role: str, regions: list[str] | None, **params: str
    ) -> list[dict[str, Any]]:
        response = await self.http.get(path, params=params, headers=self.staff(role, regions))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def staff(self, role: str, regions: list[str] | None = None,
              subject: str = "staff@edih.local") -> dict[str, str]:
        """The headers of a staff member's request."""
        token = issue_token(self.settings, subject, role, regions=regions)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}

    async def delivery(self, company_id: str) -> dict[str, Any]:
        (only,) = await self.deliveries(company_id)
        return only

    async def processed(self, event_id: str) -> int:
        async with self.ctx.db.reading() as session:
            return int(await session.scalar(
                select(func.count()).select_from(ProcessedEvent)
                .where(col(ProcessedEvent.event_id) == event_id)
            ) or 0)


@pytest.fixture
def mail() -> MailServer:
    return MailServer()


@pytest.fixture
def intake(settings: Settings) -> Intake:
    return Intake(settings)


@pytest.fixture
async def running(settings: Settings, mail: MailServer, intake: Intake) -> AsyncIterator[None]:
    """The usual case: mail server and intake are up."""
    await mail.start()
    await intake.start()
    yield
    await intake.stop()
    await mail.stop()


@asynccontextmanager
async def run_notifications(
    settings: Settings, mail: MailServer, intake: Intake, poll_seconds: float | None = None,
    clock: Clock | None = None, console_url: str | None = None, **overrides: Any,
) -> AsyncIterator[Notifications]:
    """The notifications app with its lifespan, wired to this test's mail server and intake (which
    also stands in for the console's advisors unless a console's URL is given); `overrides` are
    further settings."""
    urls = {"intake": intake.url, "console": console_url or intake.url}
    service_settings = NotificationSettings.of(settings, smtp_port=mail.port, service_urls=urls, **overrides)
    app = create_app(service_settings, clock)
    if poll_seconds is not None:
        app.state.sender.poll_seconds = poll_seconds
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as http:
            yield Notifications(app, service_settings, http)


@pytest.fixture
async def notifications(
    settings: Settings, mail: MailServer, intake: Intake
) -> AsyncIterator[Notifications]:
    async with run_notifications(settings, mail, intake) as service:
        yield service
    await intake.stop()
    await mail.stop()


def new_company(intake: Intake, name: str = "Anna de Vries", language: str = "nl") -> tuple[str, str]:
    company_id = str(uuid.uuid4())
    email = f"contact-{company_id[:8]}@example.nl"
    intake.contacts[company_id] = {"name": name, "email": email, "language": language}
    return company_id, email


async def erase_contacts(service: Notifications, company_id: str, owner: str = "intake") -> CloudEvent:
    """Publish the `contacts-erased` of `owner` (intake, or training for its participants) for the
    company."""
    now = SystemClock().now()
    _, erased = build_event("contacts-erased", ContactsErased(hub_id="nl-noord", company_id=company_id,
                                                              erased_at=now), sender=owner, at=now)
    await service.publish(erased, f"edih.{owner}.events")
    return erased


async def published(
    settings: Settings, name: str, notification_id: str, version: int = 1
) -> list[CloudEvent]:
    """The `name` events (of `version`) about `notification_id` on the notifications events topic
    (at least one)."""
    # Partitions assigned by hand: no consumer group to join, so reading starts at once.
    topic = settings.topic("edih.notifications.events")
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await reader.start()
    await reader.topics()
    reader.assign([TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or ()])
    await reader.seek_to_beginning()
    found: list[CloudEvent] = []
    try:
        async def seen() -> list[CloudEvent]:
            for records in (await reader.getmany(timeout_ms=300)).values():
                events = [CloudEvent.from_bytes(r.value or b"") for r in records]
                found.extend(e for e in events if e.type.endswith(f".{name}.v{version}")
                             and e.data["notification_id"] == notification_id)
            return found

        await eventually(seen, message=f"{name} for {notification_id}")
    finally:
        await reader.stop()
    return found


async def sent_events(settings: Settings, notification_id: str) -> list[CloudEvent]:
    """The notification-sent events for `notification_id` on the notifications events topic."""
    return await published(settings, "notification-sent", notification_id)


async def test_a_requested_welcome_is_mailed_once_in_dutch_and_reported_sent(
    running, notifications, mail, intake, settings
):
    company_id, email = new_company(intake, name="Anna de Vries")
    notification_id = f"welcome-{company_id}"
    await notifications.request_welcome(company_id, notification_id)

    await mail.wait_for(email)
    (message,) = mail.to(email)
    assert message["Subject"] == "Welkom bij EDIH Noord-Nederland"
    assert message["To"].addresses[0].display_name == "Anna de Vries"
    assert message["Message-ID"].strip() == f"<notification-{notification_id}@edih-noord.nl>"
    assert message.get_body(("plain",)).get_content().startswith("Beste Anna de Vries,")
    assert "Beste Anna de Vries," in message.get_body(("html",)).get_content()

    delivery = await eventually(lambda: _sent(notifications, company_id), message="delivery sent")
    assert delivery["notification_id"] == notification_id
    assert (delivery["message_type"], delivery["channel"], delivery["attempts"]) == ("welcome", "email", 1)
    assert delivery["recipient_email"] == email and delivery["language"] == "nl"

    (event,) = await sent_events(settings, notification_id)
    assert event.type == "eu.edih.notifications.notification-sent.v1"
    assert event.source == "/nl-noord/notifications" and event.subject == company_id
    assert event.data["channel"] == "email"
    assert email not in event.to_bytes().decode(), "events carry no personal data"
    assert len(mail.received) == 1


async def test_a_contact_who_prefers_english_gets_the_english_welcome(running, notifications, mail, intake):
    company_id, email = new_company(intake, name="John Smith", language="en")
    await notifications.request_welcome(company_id, f"welcome-{company_id}")

    await mail.wait_for(email)
    (message,) = mail.to(email)
    assert message["Subject"] == "Welcome to EDIH Noord-Nederland"
    assert message.get_body(("plain",)).get_content().startswith("Dear John Smith,")
    assert (await eventually(lambda: _sent(notifications, company_id)))["language"] == "en"


async def test_a_request_wakes_the_sender_instead_of_waiting_for_its_poll(running, settings, mail, intake):
    # A poll this slow leaves only the wake after the handler's commit to be this quick.
    async with run_notifications(settings, mail, intake, poll_seconds=60) as notifications:
        warm_id, warm_email = new_company(intake)
        await notifications.request_welcome(warm_id, f"welcome-{warm_id}")
        await mail.wait_for(warm_email, message="a first welcome (the consumer has joined)")

        company_id, email = new_company(intake)
        await notifications.request_welcome(company_id, f"welcome-{company_id}")
        # Well before the next poll (a minute away): only the wake after the commit can do that.
        await mail.wait_for(email, timeout=10)


async def test_a_repeated_request_sends_one_email(running, notifications, mail, intake):
    company_id, email = new_company(intake)
    notification_id = f"welcome-{company_id}"
    first = await notifications.request_welcome(company_id, notification_id)
    await notifications.publish(first)  # the same record delivered twice
    await eventually(lambda: _sent(notifications, company_id), message="delivery sent")

    # A new command repeating the request after the message went out.
    again = await notifications.request_welcome(company_id, notification_id)
    await eventually(lambda: notifications.processed(again.id), message="the repeat consumed")
    await asyncio.sleep(0.5)  # room for a wrong second send to happen

    assert len(mail.to(email)) == 1
    delivery = await notifications.delivery(company_id)
    assert (delivery["status"], delivery["attempts"]) == ("sent", 1)


async def test_a_message_waits_for_a_mail_server_that_is_down_and_then_goes_once(
    notifications, mail, intake
):
    await intake.start()
    company_id, email = new_company(intake)
    await notifications.request_welcome(company_id, f"welcome-{company_id}")

    waiting = await eventually(lambda: _failed_attempt(notifications, company_id),
                               message="a failed first attempt")
    assert waiting["status"] == "pending" and waiting["sent_at"] is None
    assert mail.received == []

    await mail.start()
    delivery = await eventually(lambda: _sent(notifications, company_id), message="sent after recovery")
    assert delivery["attempts"] >= 2
    outcomes = [a["outcome"] for a in delivery["history"]]
    assert outcomes == ["retry"] * (len(outcomes) - 1) + ["sent"]
    assert "SMTPConnect" in delivery["history"][0]["error"]
    await asyncio.sleep(0.5)
    assert len(mail.to(email)) == 1


async def test_a_recipient_is_resolved_once_intake_is_back(notifications, mail, intake):
    await mail.start()
    company_id, email = new_company(intake)
    await notifications.request_welcome(company_id, f"welcome-{company_id}")

    waiting = await eventually(lambda: _failed_attempt(notifications, company_id),
                               message="a failed first attempt")
    assert "intake unreachable" in waiting["last_error"]

    await intake.start()
    delivery = await eventually(lambda: _sent(notifications, company_id), message="sent after recovery")
    assert delivery["attempts"] >= 2 and delivery["recipient_email"] == email
    assert len(mail.to(email)) == 1


async def test_the_delivery_log_is_for_staff_only(running, notifications):
    response = await notifications.http.get("/deliveries", params={"company_id": "x"})
    assert response.status_code == 401
    service_token = issue_token(notifications.settings, "intake", "service")
    response = await notifications.http.get(
        "/deliveries", params={"company_id": "x"}, headers={"Authorization": f"Bearer {service_token}"}
    )
    assert response.status_code == 403
    assert await notifications.deliveries("x", role="viewer") == []


async def test_advisors_see_the_deliveries_of_their_regions_only(running, notifications, intake):
    companies = {region: new_company(intake)[0] for region in ("drenthe", "friesland", None)}
    for region, company_id in companies.items():
        await notifications.request_welcome(company_id, f"welcome-{company_id}", region=region)
    for company_id in companies.values():
        await eventually(lambda c=company_id: _sent(notifications, c), message="each welcome sent")

    await seen_by_region(notifications.log, *companies.values())


async def seen_by_region(
    listing: Callable[..., Awaitable[list[dict[str, Any]]]], drenthe: str, friesland: str, unknown: str
) -> None:
    """What `listing(role, regions, **params)` shows each kind of staff member of three companies:
    in Drenthe, in Friesland and of no region. An advisor sees their regions' only; a row without a
    region is for administrators and viewers."""

    def companies_in(rows: list[dict[str, Any]]) -> set[str]:
        return {row["company_id"] for row in rows}

    assert companies_in(await listing("advisor", ["drenthe"])) == {drenthe}
    assert {row["region"] for row in await listing("advisor", ["drenthe"], company_id=drenthe)} == {"drenthe"}
    assert await listing("advisor", ["drenthe"], company_id=friesland) == []
    assert await listing("advisor", ["drenthe"], company_id=unknown) == []
    assert companies_in(await listing("advisor", ["drenthe", "friesland"])) == {drenthe, friesland}
    assert await listing("advisor", []) == []
    for role in ("admin", "viewer"):
        assert companies_in(await listing(role)) == {drenthe, friesland, unknown}


async def _sent(notifications: Notifications, company_id: str) -> dict[str, Any] | None:
    rows = await notifications.deliveries(company_id)
    return rows[0] if rows and rows[0]["status"] == "sent" else None


async def _failed_attempt(notifications: Notifications, company_id: str) -> dict[str, Any] | None:
    rows = await notifications.deliveries(company_id)
    return rows[0] if rows and rows[0]["attempts"] >= 1 else None
