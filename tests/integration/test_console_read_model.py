"""The console's read model on a real broker and database: events published by intake and the journey
show up on the company page of a signed-in staff member, once each, and the pages stay closed to
anyone who has not signed in."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.console.app import create_app
from services.console.auth import COOKIE
from services.console.settings import ConsoleSettings
from shared.auth import decode_token, issue_token
from shared.contracts import CloudEvent, build_event
from shared.contracts.base import EventData
from shared.contracts.intake import CompanyRegistered
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.notifications import NotificationSent, NotificationSentV2
from shared.contracts.services import ServiceCompleted
from shared.contracts.training import AttendanceRecorded, EnrolmentWaitlisted
from shared.kafka import make_broker
from shared.settings import Settings
from tests.support.waiting import eventually

REGISTERED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def admin_email(settings: Settings) -> str:
    """The console's first administrator, as the console makes it from these settings."""
    return ConsoleSettings.of(settings).console_admin_email


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(console: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=console)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        yield client


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[KafkaBroker]:
    broker = make_broker(settings, "test-publisher")
    await broker.start()
    yield broker
    await broker.stop()


async def publish(
    broker: KafkaBroker, settings: Settings, name: str, data: EventData, sender: str, at: datetime,
    event_id: str | None = None, service: str | None = None,
) -> CloudEvent:
    contract, event = build_event(name, data, sender=sender, at=at, event_id=event_id, service=service)
    await broker.publish(event.to_bytes(), settings.topic(contract.topic), key=event.subject.encode())
    return event


def registration(company_id: str, legal_name: str = "Noordelijke Metaalwerken BV") -> CompanyRegistered:
    return CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="01234567", legal_name=legal_name,
        region="drenthe", nace_code="C25.62", cohort_status="admitted",
    )


def journey_started(company_id: str) -> JourneyStageChanged:
    return JourneyStageChanged(
        hub_id="nl-noord", company_id=company_id, from_stage=None, to_stage="registered",
        at=REGISTERED_AT + timedelta(seconds=5), reason="company admitted to the cohort", actor="journey",
    )


async def sign_in(
    client: httpx.AsyncClient, settings: Settings, password: str | None = None
) -> httpx.Response:
    return await client.post("/login", data={
        "email": admin_email(settings),
        "password": ConsoleSettings.of(settings).console_admin_password if password is None else password,
    })


def timeline_items(page: str) -> list[str]:
    return re.findall(r"<li data-type=\"([a-z-]+)\">", page)


async def company_page_showing(client: httpx.AsyncClient, company_id: str, *texts: str) -> str | None:
    response = await client.get(f"/companies/{company_id}")
    if response.status_code == 200 and all(text in response.text for text in texts):
        return response.text
    return None


async def test_a_registered_company_shows_its_stage_and_timeline_to_signed_in_staff(
    client, publisher, settings
):
    company_id = str(uuid.uuid4())
    await publish(publisher, settings, "company-registered", registration(company_id), "intake",
                  REGISTERED_AT)
    await publish(publisher, settings, "journey-stage-changed", journey_started(company_id), "journey",
                  REGISTERED_AT + timedelta(seconds=5))

    signed_in = await sign_in(client, settings)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    # The session's token names the staff account by its id; the e-mail is a claim of its own.
    staff = decode_token(settings, client.cookies[COOKIE])
    assert staff.subject.isdigit() and staff.email == admin_email(settings)

    # The two events come on two topics, in either order: wait for both.
    page = await eventually(
        lambda: company_page_showing(client, company_id, "Journey started", "Noordelijke Metaalwerken BV"),
        message="both events",
    )
    assert "Noordelijke Metaalwerken BV" in page
    assert re.search(r'data-testid="stage">\s*Registered\s*<', page)
    assert timeline_items(page) == ["journey-stage-changed", "company-registered"]  # newest first

    listing = await client.get("/")
    assert "Noordelijke Metaalwerken BV" in listing.text and "Registered" in listing.text


async def test_training_facts_show_in_the_company_timeline(client, publisher, settings):
    company_id = str(uuid.uuid4())
    await publish(publisher, settings, "company-registered", registration(company_id), "intake",
                  REGISTERED_AT)
    fact = {"hub_id": "nl-noord", "company_id": company_id, "enrolment_id": "e1", "session_id": "s1",
            "course_id": "c1"}
    await publish(publisher, settings, "enrolment-waitlisted", EnrolmentWaitlisted(**fact, position=2),
                  "training", REGISTERED_AT + timedelta(days=1))
    await publish(publisher, settings, "attendance-recorded", AttendanceRecorded(**fact, attended=True),
                  "training", REGISTERED_AT + timedelta(days=9))
    delivered = ServiceCompleted(hub_id="nl-noord", company_id=company_id, plan_item_id="p-training",
                                 value_eur=Decimal("550.00"), completed_at=REGISTERED_AT + timedelta(days=9))
    await publish(publisher, settings, "service-completed", delivered, "training",
                  REGISTERED_AT + timedelta(days=9, seconds=1), service="training")
    await sign_in(client, settings)

    page = await eventually(lambda: company_page_showing(
        client, company_id, "Noordelijke Metaalwerken BV", "position 2", "attended a training session",
        "worth EUR 550.00"),
        message="the training facts in the timeline")
    assert timeline_items(page) == ["service-completed", "attendance-recorded", "enrolment-waitlisted",
                                    "company-registered"]


async def test_sent_messages_of_v1_and_v2_show_in_the_company_timeline(client, publisher, settings):
    company_id = str(uuid.uuid4())
    await publish(publisher, settings, "company-registered", registration(company_id), "intake",
                  REGISTERED_AT)
    sent = {"hub_id": "nl-noord", "company_id": company_id, "channel": "email"}
    welcome = NotificationSent(**sent, notification_id="n1", message_type="welcome",
                               sent_at=REGISTERED_AT + timedelta(minutes=1))
    promoted = NotificationSentV2(**sent, notification_id="n2", message_type="training-enrolment-promoted",
                                  sent_at=REGISTERED_AT + timedelta(days=2))
    await publish(publisher, settings, "notification-sent", welcome, "notifications", welcome.sent_at)
    event = await publish(publisher, settings, "notification-sent", promoted, "notifications",
                          promoted.sent_at)
    assert event.type.endswith(".notification-sent.v2")
    await sign_in(client, settings)

    page = await eventually(lambda: company_page_showing(
        client, company_id, "Noordelijke Metaalwerken BV", "Welcome e-mail sent",
        "Training enrolment promoted e-mail sent"),
        message="both sent messages in the timeline")
    assert timeline_items(page) == ["notification-sent", "notification-sent", "company-registered"]


async def test_a_duplicate_event_adds_no_second_timeline_entry(client, publisher, settings):
    company_id = str(uuid.uuid4())
    await publish(publisher, settings, "company-registered", registration(company_id), "intake",
                  REGISTERED_AT)
    started = str(uuid.uuid4())
    for _ in range(2):
        await publish(publisher, settings, "journey-stage-changed", journey_started(company_id), "journey",
                      REGISTERED_AT, event_id=started)
    # Same topic and key, so the same partition: once this one shows, both copies were handled.
    scheduled = JourneyStageChanged(
        hub_id="nl-noord", company_id=company_id, from_stage="registered", to_stage="intake_scheduled",
        at=REGISTERED_AT + timedelta(days=1), reason="interview planned", actor="journey",
    )
    await publish(publisher, settings, "journey-stage-changed", scheduled, "journey",
                  REGISTERED_AT + timedelta(days=1))
    await sign_in(client, settings)
    page = await eventually(
        lambda: company_page_showing(client, company_id, "Intake scheduled", "Registered Noordelijke")
    )
    assert timeline_items(page) == ["journey-stage-changed", "journey-stage-changed", "company-registered"]
    assert page.count("Journey started") == 1


async def test_a_wrong_password_shows_the_login_page_with_an_error_and_sets_no_cookie(client, settings):
    response = await sign_in(client, settings, password="not-the-password")
    assert response.status_code == 401
    assert "Wrong e-mail address or password" in response.text
    assert "set-cookie" not in response.headers
    assert COOKIE not in client.cookies
    assert (await client.get("/")).status_code == 303


async def test_pages_redirect_to_the_login_page_until_signed_in(client, settings):
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    company = await client.get("/companies/some-company")
    assert company.headers["location"] == "/login?next=/companies/some-company"
    await sign_in(client, settings)
    assert (await client.get("/")).status_code == 200
    signed_out = await client.post("/logout")
    assert signed_out.headers["location"] == "/login"
    assert (await client.get("/")).status_code == 303


async def test_a_forged_session_cookie_is_not_a_session(client, settings):
    forged = issue_token(settings.model_copy(update={"jwt_secret": "x" * 40}), admin_email(settings),
                         "admin")
    client.cookies.set(COOKIE, forged)
    assert (await client.get("/")).status_code == 303


async def test_the_json_api_reads_a_company_with_a_bearer_token(client, publisher, settings):
    company_id = str(uuid.uuid4())
    await publish(publisher, settings, "company-registered", registration(company_id), "intake",
                  REGISTERED_AT)
    assert (await client.get(f"/api/companies/{company_id}")).status_code == 401
    token = issue_token(settings, "advisor@hub.test", "advisor", regions=["drenthe"])
    headers = {"Authorization": f"Bearer {token}"}

    async def read() -> dict | None:
        response = await client.get(f"/api/companies/{company_id}", headers=headers)
        return response.json() if response.status_code == 200 else None

    body = await eventually(read)
    assert body["legal_name"] == "Noordelijke Metaalwerken BV"
    assert body["stage"] == "registered" and body["stage_label"] == "Registered"
    assert [e["type"] for e in body["timeline"]] == ["company-registered"]
    elsewhere = issue_token(settings, "advisor@hub.test", "advisor", regions=["friesland"])
    other = await client.get(f"/api/companies/{company_id}",
                             headers={"Authorization": f"Bearer {elsewhere}"})
    assert other.status_code == 404


async def test_notifications_can_resolve_an_advisor_but_nobody_else_can(client, settings):
    service = {"Authorization": f"Bearer {issue_token(settings, 'notifications', 'service')}"}
    admin = {"Authorization": f"Bearer {issue_token(settings, 'someone', 'admin')}"}
    found = await client.get("/internal/recipients/advisor/1", headers=service)
    assert found.status_code == 200
    assert found.json() == {"name": admin_email(settings), "email": admin_email(settings),
                            "language": "nl"}
    assert (await client.get("/internal/recipients/advisor/1", headers=admin)).status_code == 403
    assert (await client.get("/internal/recipients/advisor/999", headers=service)).status_code == 404
    assert (await client.get("/internal/recipients/company/1", headers=service)).status_code == 404


async def test_the_journeys_per_stage_gauge_follows_the_read_model(console, publisher, settings):
    from prometheus_client import REGISTRY

    def registered_now() -> float:
        return REGISTRY.get_sample_value("edih_journeys", {"stage": "registered"}) or 0.0

    before = registered_now()
    company_id = str(uuid.uuid4())
    await publish(publisher, settings, "company-registered", registration(company_id), "intake",
                  REGISTERED_AT)

    async def counted() -> bool:
        return registered_now() == before + 1

    await eventually(counted, message="one more journey in stage registered")


async def test_staff_of_a_region_resolve_to_its_advisor_or_else_an_administrator(console, client, settings):
    from services.console.auth import hash_password
    from services.console.models import StaffAccount

    ctx = console.state.ctx
    async with ctx.db.transaction() as session:
        session.add(StaffAccount(email="anna@edih.local", name="Anna Bakker", language="nl",
                                 password_hash=hash_password("x"), role="advisor", regions=["drenthe"],
                                 created_at=REGISTERED_AT))
    service = {"Authorization": f"Bearer {issue_token(settings, 'notifications', 'service')}"}
    drenthe = await client.get("/internal/recipients/region-staff/drenthe", headers=service)
    assert drenthe.json()["email"] == "anna@edih.local" and drenthe.json()["name"] == "Anna Bakker"
    friesland = await client.get("/internal/recipients/region-staff/friesland", headers=service)
    assert friesland.json()["email"] == admin_email(settings)


async def test_the_hubs_administrators_resolve_to_its_first_administrator(console, client, settings):
    from services.console.auth import hash_password
    from services.console.models import StaffAccount

    ctx = console.state.ctx
    async with ctx.db.transaction() as session:
        session.add(StaffAccount(email="second.admin@edih.local", password_hash=hash_password("x"),
                                 role="admin", regions=[], created_at=REGISTERED_AT))
    service = {"Authorization": f"Bearer {issue_token(settings, 'notifications', 'service')}"}
    admins = await client.get(f"/internal/recipients/administrators/{settings.hub_id}", headers=service)
    assert admins.status_code == 200 and admins.json()["email"] == admin_email(settings)
    other_hub = await client.get("/internal/recipients/administrators/be-vlaanderen", headers=service)
    assert other_hub.status_code == 404
