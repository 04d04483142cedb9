"""Opt-outs on real infrastructure (broker, SQLite and PostgreSQL, a real SMTP server on loopback,
intake's recipients endpoint over real HTTP): a person undoes their opt-out from the page that
confirmed it and the next reminder reaches them; staff undo one with a reason, an advisor only in
their regions; an opt-out belongs to the person, so a new primary contact gets the reminders; an
erasure leaves no address digest; advisors see the opt-outs of their regions only; opt-outs and
links from before opt-outs knew their person keep working."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import JSON, Integer, String, column, table
from sqlmodel import col, select

from services.notifications.app import SCHEMA as NOTIFICATIONS
from services.notifications.models import OptOut
from shared.db import Database, UTCDateTime
from shared.migrations import upgrade
from shared.settings import Settings
from tests.integration import test_notifications_delivery as support
from tests.integration.test_notifications_delivery import (
    MailServer,
    Notifications,
    erase_contacts,
    new_company,
    run_notifications,
    seen_by_region,
)
from tests.integration.test_notifications_timing import with_status
from tests.support.html import Page
from tests.support.waiting import eventually

# The stand-ins of the delivery tests: a real SMTP server and the recipients endpoints.
mail, intake, running = support.mail, support.intake, support.running

QUESTIONNAIRE = {"questionnaire_url": "https://edih.example/q/abc"}
# The revision before opt-outs knew their person.
BEFORE_PERSONS = "3dbe8670d26e"


@pytest.fixture
async def service(running: None, settings: Settings, mail: MailServer,
                  intake: support.Intake) -> AsyncIterator[Notifications]:
    # Room for every reminder of a test on one day.
    async with run_notifications(settings, mail, intake, notification_max_reminders_per_day=20) as started:
        yield started


async def remind(service: Notifications, company_id: str, number: int, region: str | None = None) -> str:
    notification_id = f"r{number}-{company_id}"
    await service.request(company_id, notification_id, "questionnaire-reminder", "reminder",
                          context=QUESTIONNAIRE, region=region)
    return notification_id


async def reminded(service: Notifications, mail: MailServer, company_id: str, number: int,
                   email: str, region: str | None = None) -> EmailMessage:
    """Request reminder `number` and wait until it reached `email`."""
    before = len(mail.to(email))
    await remind(service, company_id, number, region)

    async def arrived() -> EmailMessage | None:
        received = mail.to(email)
        return received[before] if len(received) > before else None

    return await eventually(arrived, message=f"reminder {number} at {email}")


async def skipped(service: Notifications, company_id: str, number: int) -> dict[str, Any]:
    notification_id = await remind(service, company_id, number)
    return await eventually(lambda: with_status(service, company_id, notification_id, "skipped"),
                            message=f"reminder {number} skipped")


def path_of(service: Notifications, url: str) -> str:
    return url.removeprefix(service.settings.url_of("notifications"))


async def unsubscribe(service: Notifications, message: EmailMessage) -> httpx.Response:
    """Confirm the opt-out on the page the message's unsubscribe link opens."""
    done = await service.http.post(path_of(service, message["List-Unsubscribe"].strip("<>")))
    assert done.status_code == 200, done.text
    return done


def resubscribe_action(service: Notifications, page: httpx.Response) -> str:
    """Where the confirmation page's form goes to receive the messages again."""
    form = Page.parse(page.text).one("form")
    assert form.attrs["method"] == "post"
    return path_of(service, form.attrs["action"])


def digest(key: str, email: str) -> str:
    """The keyed digest of an address, computed here as docs/notifications.md describes it."""
    return hmac.new(key.encode(), email.lower().encode(), hashlib.sha256).hexdigest()


async def rows_of(service: Notifications, company_id: str) -> list[OptOut]:
    async with service.ctx.db.reading() as session:
        found = await session.execute(select(OptOut).where(col(OptOut.company_id) == company_id))
        return list(found.scalars().all())


@pytest.mark.parametrize(("language", "texts"), [
    pytest.param("nl", ("U bent afgemeld", "Deze berichten weer ontvangen", "U ontvangt onze berichten weer"),
                 id="dutch"),
    pytest.param("en", ("You are unsubscribed", "Receive these messages again",
                        "You will receive our messages again"), id="english"),
])
async def test_a_person_undoes_their_opt_out_from_its_confirmation_and_gets_the_next_reminder(
    service, mail, intake, language, texts
):
    done_title, button, resubscribed_title = texts
    company_id, email = new_company(intake, language=language)
    first = await reminded(service, mail, company_id, 1, email)
    done = await unsubscribe(service, first)
    page = Page.parse(done.text)
    assert page.one("h1").text == done_title and page.one("button").text == button
    await skipped(service, company_id, 2)

    action = resubscribe_action(service, done)
    assert action.startswith("/resubscribe?token=")
    again = await service.http.post(action)  # no account, no bearer token
    assert again.status_code == 200 and Page.parse(again.text).one("h1").text == resubscribed_title
    assert Page.parse(again.text).find("form") == []
    (undone,) = await service.opt_outs(company_id=company_id)
    assert (undone["status"], undone["withdrawal_source"], undone["withdrawn_by"]) == (
        "withdrawn", "resubscribe-link", None)
    assert undone["withdrawn_at"] and undone["withdrawal_notification_id"] == f"r1-{company_id}"

    repeated = await service.http.post(action)
    assert repeated.status_code == 200 and resubscribed_title in repeated.text
    assert await service.opt_outs(company_id=company_id) == [undone], "repeating it changes nothing"
    opened = await service.http.get(action)
    assert opened.status_code == 200 and resubscribed_title in opened.text

    third = await reminded(service, mail, company_id, 3, email)
    assert third["List-Unsubscribe"], "the reminder comes with its own way out again"
    assert [m["Subject"] for m in mail.to(email)] == [first["Subject"], third["Subject"]]


async def test_a_person_who_opted_out_opening_the_link_again_is_offered_the_way_back(service, mail, intake):
    company_id, email = new_company(intake, language="en")
    first = await reminded(service, mail, company_id, 1, email)
    await unsubscribe(service, first)

    opened = await service.http.get(path_of(service, first["List-Unsubscribe"].strip("<>")))
    assert opened.status_code == 200 and Page.parse(opened.text).one("h1").text == "You are unsubscribed"
    await service.http.post(resubscribe_action(service, opened))
    assert [o["status"] for o in await service.opt_outs(company_id=company_id)] == ["withdrawn"]
    # Unsubscribing again is a new opt-out; the undone one stays in the history.
    await unsubscribe(service, first)
    assert [o["status"] for o in await service.opt_outs(company_id=company_id)] == ["withdrawn", "active"]
    await skipped(service, company_id, 2)


async def test_a_broken_resubscribe_link_changes_nothing(service, mail, intake):
    company_id, email = new_company(intake)
    first = await reminded(service, mail, company_id, 1, email)
    done = await unsubscribe(service, first)
    action = resubscribe_action(service, done)
    unsubscribe_token = first["List-Unsubscribe"].strip("<>").split("token=", 1)[1]
    tampered = action[:-3] + ("AAA" if not action.endswith("AAA") else "BBB")
    for path in ("/resubscribe", "/resubscribe?token=garbage", tampered,
                 f"/resubscribe?token={unsubscribe_token}"):
        for method in ("GET", "POST"):
            response = await service.http.request(method, path)
            assert response.status_code == 400 and "werkt niet meer" in response.text, path
    assert [o["status"] for o in await service.opt_outs(company_id=company_id)] == ["active"]


async def test_staff_undo_an_opt_out_with_a_reason_an_advisor_only_in_their_regions(service, mail, intake):
    company_id, email = new_company(intake)
    first = await reminded(service, mail, company_id, 1, email, region="drenthe")
    await unsubscribe(service, first)
    (opt_out,) = await service.opt_outs(company_id=company_id)
    assert (opt_out["region"], opt_out["status"], opt_out["scope"]) == ("drenthe", "active", "person")
    path = f"/opt-outs/{opt_out['id']}/withdrawal"
    reason = {"reason": "Asked by phone to get the reminders again"}

    other_region = await service.http.post(path, json=reason, headers=service.staff("advisor", ["friesland"]))
    assert other_region.status_code == 403 and "region drenthe" in other_region.text
    viewer = await service.http.post(path, json=reason, headers=service.staff("viewer"))
    assert viewer.status_code == 403
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        refused = await service.http.post(path, json=body, headers=service.staff("admin"))
        assert refused.status_code == 422, body
    assert (await service.http.post("/opt-outs/999999/withdrawal", json=reason,
                                    headers=service.staff("admin"))).status_code == 404
    assert await service.opt_outs(company_id=company_id) == [opt_out], "nothing changed"

    advisor = service.staff("advisor", ["drenthe"], subject="sanne@edih-noord.nl")
    headers = {**advisor, "Idempotency-Key": "k-1"}
    withdrawn = await service.http.post(path, json=reason, headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text
    retried = await service.http.post(path, json=reason, headers=headers)
    assert (retried.status_code, retried.json()) == (200, withdrawn.json())
    again = await service.http.post(path, json=reason, headers=service.staff("admin"))
    assert again.status_code == 409 and "sanne@edih-noord.nl" in again.text

    (listed,) = await service.opt_outs(company_id=company_id)
    assert listed == withdrawn.json()
    undo = ("status", "withdrawal_source", "withdrawn_by", "withdrawal_reason")
    assert tuple(listed[key] for key in undo) == (
        "withdrawn", "staff", "sanne@edih-noord.nl", "Asked by phone to get the reminders again")
    assert listed["withdrawn_at"] and listed["opted_out_at"] == opt_out["opted_out_at"]
    await reminded(service, mail, company_id, 2, email, region="drenthe")


async def test_an_opt_out_without_a_region_is_withdrawn_by_an_administrator_only(service, mail, intake):
    company_id, email = new_company(intake)
    await unsubscribe(service, await reminded(service, mail, company_id, 1, email))
    (opt_out,) = await service.opt_outs(company_id=company_id)
    path, reason = f"/opt-outs/{opt_out['id']}/withdrawal", {"reason": "Recorded by mistake"}
    advisor = await service.http.post(path, json=reason, headers=service.staff("advisor", ["drenthe"]))
    assert advisor.status_code == 403 and "no region" in advisor.text
    admin = await service.http.post(path, json=reason, headers=service.staff("admin", subject="admin@edih"))
    assert admin.status_code == 200 and admin.json()["withdrawn_by"] == "admin@edih"


async def test_a_new_primary_contact_gets_the_reminder_the_old_one_opted_out_of(service, mail, intake):
    company_id, anna = new_company(intake, name="Anna de Vries")
    await unsubscribe(service, await reminded(service, mail, company_id, 1, anna))
    await skipped(service, company_id, 2)

    bram = f"bram-{company_id[:8]}@example.nl"
    intake.contacts[company_id] = {"name": "Bram Visser", "email": bram, "language": "nl"}
    to_bram = await reminded(service, mail, company_id, 3, bram)
    assert to_bram.get_body(("plain",)).get_content().startswith("Beste Bram Visser,")
    await unsubscribe(service, to_bram)  # Bram's own opt-out, beside Anna's
    assert [(o["status"], o["scope"]) for o in await service.opt_outs(company_id=company_id)] == [
        ("active", "person"), ("active", "person")]

    # Anna back as the primary contact, her address typed in capitals: still her opt-out.
    intake.contacts[company_id] = {"name": "Anna de Vries", "email": anna.upper(), "language": "nl"}
    held = await skipped(service, company_id, 4)
    first_id = (await service.opt_outs(company_id=company_id))[0]["id"]
    assert f"opt-out {first_id}" in held["last_error"]
    carla = f"carla-{company_id[:8]}@example.nl"
    intake.contacts[company_id] = {"name": "Carla Smit", "email": carla, "language": "nl"}
    await reminded(service, mail, company_id, 5, carla)
    assert len(mail.to(anna)) == 1 and len(mail.to(bram)) == 1


async def test_an_erasure_leaves_opt_outs_as_facts_without_a_person(service, mail, intake):
    company_id, anna = new_company(intake)
    first = await reminded(service, mail, company_id, 1, anna)
    await unsubscribe(service, first)
    (row,) = await rows_of(service, company_id)
    assert row.applies_to == digest(service.settings.jwt_secret, anna), "kept by digest, not by address"
    assert anna not in str(row.model_dump())
    # Undone by staff (a reason naming her), then opted out again: two opt-outs, one in force.
    undone = await service.http.post(f"/opt-outs/{row.id}/withdrawal", headers=service.staff("admin"),
                                     json={"reason": f"{anna} asked by phone"})
    assert undone.status_code == 200, undone.text
    await unsubscribe(service, first)

    await erase_contacts(service, company_id)

    async def erased() -> list[dict[str, Any]] | None:
        listed = await service.opt_outs(company_id=company_id)
        return listed if listed and all(o["erased_at"] for o in listed) else None

    listed = await eventually(erased, message="the opt-outs' person erased")
    assert [(o["status"], o["scope"]) for o in listed] == [("withdrawn", "person"), ("erased", "person")]
    assert listed[0]["withdrawal_reason"] == "[erased] asked by phone"
    rows = await rows_of(service, company_id)
    assert [r.applies_to for r in rows] == [None, None]
    kept = str([r.model_dump() for r in rows])
    assert digest(service.settings.jwt_secret, anna) not in kept and anna not in kept

    # The company's next contact is another person, bound by no one's opt-out.
    bram = f"bram-{company_id[:8]}@example.nl"
    intake.contacts[company_id] = {"name": "Bram Visser", "email": bram}
    await reminded(service, mail, company_id, 2, bram)


async def test_advisors_see_the_opt_outs_of_their_regions_only(service, mail, intake):
    companies = {region: new_company(intake) for region in ("drenthe", "friesland", None)}
    for region, (company_id, email) in companies.items():
        await unsubscribe(service, await reminded(service, mail, company_id, 1, email, region=region))
    await seen_by_region(service.opt_outs, *(company_id for company_id, _ in companies.values()))
    assert (await service.http.get("/opt-outs")).status_code == 401


async def test_a_link_sent_before_links_named_the_person_opts_out_the_person_it_went_to(
    service, mail, intake
):
    company_id, anna = new_company(intake)
    await reminded(service, mail, company_id, 1, anna, region="groningen")
    # The link as the service wrote it before: the reference, no address digest, no region.
    settings = service.settings
    expires = int((datetime.now(UTC) + timedelta(days=1)).timestamp())
    old = jwt.encode({"purpose": "unsubscribe", "hub": settings.hub_id, "svc": "intake",
                      "kind": "primary-contact", "rid": company_id, "cid": company_id, "lang": "nl",
                      "nid": f"r1-{company_id}", "exp": expires},
                     settings.jwt_secret, algorithm=settings.jwt_algorithm)
    done = await service.http.post("/unsubscribe", params={"token": old})
    assert done.status_code == 200 and "U bent afgemeld" in done.text
    (opt_out,) = await service.opt_outs(company_id=company_id)
    assert (opt_out["scope"], opt_out["region"]) == ("person", "groningen"), "taken from the delivery log"
    await skipped(service, company_id, 2)
    bram = f"bram-{company_id[:8]}@example.nl"
    intake.contacts[company_id] = {"name": "Bram Visser", "email": bram}
    await reminded(service, mail, company_id, 3, bram)


async def test_opt_outs_recorded_before_they_knew_their_person_still_apply_to_the_role(
    running, settings, mail, intake
):
    kept, erased = new_company(intake)[0], new_company(intake)[0]
    db = Database.for_service(settings, "notifications")
    try:
        await upgrade(db, NOTIFICATIONS, BEFORE_PERSONS)
        async with db.engine.begin() as connection:
            await connection.execute(DELIVERIES.insert(), [old_delivery(kept, "drenthe")])
            await connection.execute(OPT_OUTS.insert(), [old_opt_out(kept), old_opt_out(erased)])
            await connection.execute(ERASURES.insert(), [{
                "hub_id": "nl-noord", "company_id": erased, "service": "intake",
                "erased_at": datetime(2026, 2, 1, tzinfo=UTC)}])
    finally:
        await db.dispose()

    async with run_notifications(settings, mail, intake) as service:  # migrates at start
        (role,) = await service.opt_outs(company_id=kept)
        assert (role["scope"], role["status"], role["region"]) == ("role", "active", "drenthe")
        assert role["notification_id"] == f"r0-{kept}"
        (gone,) = await service.opt_outs(company_id=erased)
        assert (gone["scope"], gone["status"], gone["region"]) == ("role", "erased", None)

        # Whoever is the primary contact now: the role's opt-out holds, as it always did.
        await skipped(service, kept, 1)
        headers = service.staff("advisor", ["drenthe"])
        withdrawn = await service.http.post(f"/opt-outs/{role['id']}/withdrawal", headers=headers,
                                            json={"reason": "The new contact wants the reminders"})
        assert withdrawn.status_code == 200, withdrawn.text
        await reminded(service, mail, kept, 2, intake.contacts[kept]["email"])
        await reminded(service, mail, erased, 1, intake.contacts[erased]["email"])


OPT_OUTS = table(
    "opt_outs", column("hub_id", String), column("company_id", String), column("recipient_service", String),
    column("recipient_kind", String), column("recipient_ref_id", String),
    column("opted_out_at", UTCDateTime()), column("source", String), column("notification_id", String),
)
DELIVERIES = table(
    "deliveries", *(column(name, String) for name in (
        "delivery_key", "notification_id", "hub_id", "company_id", "region", "message_type", "urgency",
        "channel", "recipient_service", "recipient_kind", "recipient_ref_id", "recipient_email", "status")),
    column("context", JSON), column("attempts", Integer),
    column("send_at", UTCDateTime()), column("created_at", UTCDateTime()),
)
ERASURES = table("contact_erasures", column("hub_id", String), column("company_id", String),
                 column("service", String), column("erased_at", UTCDateTime()))


def old_opt_out(company_id: str) -> dict[str, Any]:
    """An opt-out as the service recorded it before it knew the person."""
    return {"hub_id": "nl-noord", "company_id": company_id, "recipient_service": "intake",
            "recipient_kind": "primary-contact", "recipient_ref_id": company_id,
            "opted_out_at": datetime(2026, 1, 5, 10, tzinfo=UTC), "source": "unsubscribe-link",
            "notification_id": f"r0-{company_id}"}


def old_delivery(company_id: str, region: str) -> dict[str, Any]:
    """The reminder whose link that opt-out used, long sent, its address erased from the log."""
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    return {"delivery_key": f"r0-{company_id}", "notification_id": f"r0-{company_id}", "hub_id": "nl-noord",
            "company_id": company_id, "region": region, "message_type": "questionnaire-reminder",
            "urgency": "reminder", "channel": "email", "recipient_service": "intake",
            "recipient_kind": "primary-contact", "recipient_ref_id": company_id, "recipient_email": None,
            "status": "sent", "context": {}, "attempts": 1, "send_at": at, "created_at": at}
