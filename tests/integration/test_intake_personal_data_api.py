"""Erasure of personal data through intake's API, on SQLite and PostgreSQL: it also forgets the
answers kept for `Idempotency-Key` retries (a retry is then evaluated afresh, and no name, e-mail or
phone stays behind there); every stored answer names the company it is about; erasure can be asked
again for personal data that came back since, and is 409 only with nothing to erase; the export
shows all that is held."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from services.training.app import create_app as create_training_app
from shared.auth import issue_token
from shared.idempotency import StoredResponse
from shared.settings import Settings
from tests.integration.test_intake_api import Intake, registration, running_intake
from tests.support import training
from tests.support.served import served
from tests.support.waiting import eventually
from tests.unit.test_intake_dma import answers

# Every personal value the tests write, as it would appear in a stored JSON body.
PERSONAL = ("Jan de Vries", "Anna Bakker", "Piet Smit", "staalbouw-noord.nl", "123 4567", "Els Mulder",
            "06 1234 5678")
ELS = {"name": "Els Mulder", "role": "HR", "email": "els@staalbouw-noord.nl", "phone": "06 1234 5678"}


@pytest.fixture
async def intake(settings: Settings) -> AsyncIterator[Intake]:
    async with running_intake(settings) as running:
        yield running


async def keyed(intake: Intake, method: str, url: str, key: str, body: Any = None) -> httpx.Response:
    """A staff request with an `Idempotency-Key`."""
    headers = intake.auth("admin", **{"Idempotency-Key": key})
    return await intake.client.request(method, url, json=body, headers=headers)


async def stored(intake: Intake) -> list[StoredResponse]:
    async with intake.ctx.db.reading() as session:
        return list((await session.execute(select(StoredResponse))).scalars().all())


async def erase(intake: Intake, company: str) -> httpx.Response:
    return await intake.call("POST", f"/companies/{company}/personal-data/erasure")


async def test_after_erasure_a_retried_registration_is_evaluated_afresh_and_no_personal_data_is_stored(
    intake: Intake,
):
    first = await intake.register(registration(), key="register-staalbouw")
    company = first.json()["id"]
    contacts = f"/companies/{company}/contacts"
    jan = first.json()["contacts"][0]["id"]
    assert (await keyed(intake, "POST", contacts, "add-els", ELS)).status_code == 201
    assert (await keyed(intake, "PATCH", f"{contacts}/{jan}", "jan-mail",
                        {"email": "jan@staalbouw-noord.nl"})).status_code == 200
    assert any("Anna Bakker" in r.body for r in await stored(intake))

    erased = await erase(intake, company)
    again = await intake.register(registration(), key="register-staalbouw")

    assert erased.status_code == 200, erased.text
    assert erased.json()["stored_responses"] == 3
    assert again.status_code == 409
    assert again.json()["company_id"] == company
    assert "Idempotent-Replay" not in again.headers
    assert "anna@staalbouw-noord.nl" not in again.text
    leftovers = [r.body for r in await stored(intake) if any(p in r.body for p in PERSONAL)]
    assert leftovers == []


async def test_every_stored_answer_names_the_company_it_is_about(intake: Intake):
    one = (await intake.register(registration(), key="register-one")).json()["id"]
    other = (await intake.register(registration("87654321"), key="register-other")).json()["id"]
    url = f"/companies/{one}"
    t0 = {"stage": "T0", "questionnaire_version": "sme-v1", "answers": answers(q2=3)}
    writes: list[tuple[str, str, str, Any]] = [
        ("PATCH", url, "update", {"size_class": "10-49"}),
        ("POST", f"{url}/contacts", "contact", ELS),
        ("POST", f"{url}/intake", "schedule", {"advisor_id": "7", "scheduled_at": "2026-03-10T10:00"}),
        ("PATCH", f"{url}/intake", "reschedule", {"advisor_id": "7", "scheduled_at": "2026-03-11T10:00"}),
        ("POST", f"{url}/intake/outcome", "outcome", {"outcome": "completed"}),
        ("POST", f"{url}/assessments", "assessment", t0),
        ("POST", f"{url}/plan", "plan", {"items": [{"kind": "training", "title": "Cobots"}]}),
        ("POST", f"{url}/withdrawal", "withdrawal", {"reason": "busy"}),
        ("POST", f"/companies/{other}/not-eligible", "not-eligible", {"reason": "a holding"}),
    ]
    for method, path, key, body in writes:
        response = await keyed(intake, method, path, key, body)
        assert response.status_code in (200, 201), (key, response.text)

    subjects = {r.key: r.subject for r in await stored(intake)}
    assert subjects == {"register-one": one, "register-other": other, "not-eligible": other,
                        **{key: one for _, _, key, _ in writes[:-1]}}
    # Erasing one company's personal data forgets its answers, not the other's.
    assert (await keyed(intake, "POST", f"{url}/personal-data/erasure", "erasure")).status_code == 200
    subjects = {r.key: r.subject for r in await stored(intake)}
    assert subjects == {"register-other": other, "not-eligible": other, "erasure": one}


async def test_answers_sent_through_the_companys_own_link_name_the_company(intake: Intake):
    company = (await intake.register(registration())).json()["id"]
    link = await intake.call("POST", f"/companies/{company}/questionnaire-link", {"stage": "T0"})

    response = await intake.client.post(f"/questionnaire/{link.json()['token']}",
                                        json={"answers": answers(q2=3)}, headers={"Idempotency-Key": "link"})

    assert response.status_code == 201, response.text
    assert [(r.key, r.subject) for r in await stored(intake)] == [("link", company)]


async def test_erasure_can_be_asked_again_for_personal_data_added_since_and_is_409_only_with_nothing_to_erase(
    intake: Intake,
):
    registered = (await intake.register(registration())).json()
    company, jan = registered["id"], registered["contacts"][0]["id"]
    contacts = f"/companies/{company}/contacts"

    first = await erase(intake, company)
    nothing = await erase(intake, company)
    # Staff add a contact and fill an erased one in again.
    await intake.call("POST", contacts, ELS)
    await intake.call("PATCH", f"{contacts}/{jan}",
                      {"name": "Jan de Vries", "email": "jan@staalbouw-noord.nl"})
    export = await intake.call("GET", f"/companies/{company}/personal-data")
    intake.clock.moment = intake.clock.moment.replace(hour=11)
    second = await erase(intake, company)
    after = await intake.call("GET", f"/companies/{company}/personal-data")
    third = await erase(intake, company)

    assert (first.status_code, first.json()["contacts"]) == (200, 3)
    assert nothing.status_code == 409
    assert nothing.json()["detail"] == (
        f"nothing to erase: the contacts of company {company} hold no personal data "
        "(erased at 2026-03-02T09:30:00+00:00)"
    )
    held = {(c["name"], c["email"], c["phone"]) for c in export.json()["contacts"]}
    assert held == {("Jan de Vries", "jan@staalbouw-noord.nl", None), ("[erased]", None, None),
                    ("Els Mulder", "els@staalbouw-noord.nl", "06 1234 5678")}
    assert (second.status_code, second.json()["contacts"]) == (200, 2)
    remaining = {(c["name"], c["email"], c["phone"]) for c in after.json()["contacts"]}
    assert remaining == {("[erased]", None, None)}
    assert after.json()["contacts_erased_at"] == "2026-03-02T11:30:00+00:00"
    assert third.status_code == 409
    # Published again, as a new event, so the other services erase what they got since.
    assert [d["erased_at"] for _, d in await intake.events("contacts-erased")] == [
        "2026-03-02T09:30:00Z", "2026-03-02T11:30:00Z"
    ]
    trail = [e["action"] for e in (await intake.call("GET", f"/companies/{company}/audit")).json()]
    assert trail.count("contacts-erased") == 2


async def test_the_export_shows_the_stored_answers_to_retries_until_the_erasure_forgets_them(intake: Intake):
    company = (await intake.register(registration(), key="register")).json()["id"]

    before = await intake.call("GET", f"/companies/{company}/personal-data")
    await erase(intake, company)
    after = await intake.call("GET", f"/companies/{company}/personal-data")

    [answer] = before.json()["stored_responses"]
    assert answer["status_code"] == 201
    assert [c["name"] for c in answer["body"]["contacts"]] == ["Jan de Vries", "Anna Bakker", "Piet Smit"]
    assert after.json()["stored_responses"] == []


async def test_the_export_gathers_what_training_holds_and_names_a_service_that_did_not_answer(
    settings: Settings,
):
    training_app = create_training_app(settings)
    async with served(training_app, "training") as training_url:
        with_training = settings.model_copy(update={"service_urls": {"training": training_url}})
        async with running_intake(with_training) as intake:
            company = (await intake.register(registration())).json()["id"]
            course = await staff_post(training_url, settings, "/courses", training.course())
            session = await staff_post(training_url, settings, f"/courses/{course['id']}/sessions",
                                       training.session_at("2030-03-14T10:00:00", "2030-03-14T14:00:00"))
            # Training learns of the company from intake's company-registered on the broker.
            enrolments = f"/sessions/{session['id']}/enrolments"
            await eventually(lambda: staff_post(training_url, settings, enrolments,
                                                training.participant(company, 7), expect_failure=True),
                             timeout=30, message="training knows the company and enrols its participant")

            export = (await intake.call("GET", f"/companies/{company}/personal-data")).json()

    assert "p7@staalbouw.nl" in str(export["other_services"]["training"])
    assert export["unanswered"] == {}

    # Training gone: intake's own data still comes, and the export says what is missing.
    async with running_intake(with_training) as intake:
        partial = (await intake.call("GET", f"/companies/{company}/personal-data")).json()
    assert partial["contacts"] and partial["other_services"] == {}
    assert list(partial["unanswered"]) == ["training"]
    assert "could not be asked" in partial["unanswered"]["training"]


async def staff_post(
    base: str, settings: Settings, path: str, body: dict[str, Any], *, expect_failure: bool = False
) -> dict[str, Any] | None:
    """POST as an administrator; the created record (None for a refusal when `expect_failure`)."""
    token = issue_token(settings, "1", "admin")
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        response = await client.post(path, json=body)
    if expect_failure and response.status_code != 201:
        return None
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
