"""Assessments through intake's API, on SQLite and PostgreSQL: staff enter a T0 and a T1 and read
them back with the delta; invalid answers are 422 naming every offending item, a T1 before the T0
or a second T0 is 409, and neither stores or publishes anything; the company fills in the
questionnaire itself through a signed, expiring link without an account."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from services.intake.records import Assessment
from services.intake.settings import IntakeSettings
from shared.idempotency import StoredResponse
from shared.outbox import OutboxRecord
from shared.settings import Settings
from tests.integration.test_intake_api import Intake, registration, running_intake
from tests.unit.test_intake_dma import answers

# strategy 20, readiness 33.6, human-centric 33.0, data 29.8, automation 60, green 55 (see the unit cases)
TICKS: dict[str, Any] = {
    "q1_invested": 3, "q1_both": 1, "q1_planned": 2, "q3": 3, "q4": (5, 4, 3, 0, 0, 0, 1), "q5": 2, "q6": 3,
    "q7": 3, "q8": 1, "q9": (1, 2, 3, 4, 5), "q10": 5, "q11": ("yes", "partially", "no", "partially", "yes"),
}
T0_ANSWERS = answers(**TICKS)
T1_ANSWERS = answers(**{**TICKS, "q6": 4})


@pytest.fixture
async def intake(settings: Settings) -> AsyncIterator[Intake]:
    async with running_intake(settings) as running:
        yield running


@pytest.fixture
async def company(intake: Intake) -> str:
    response = await intake.register(registration())
    assert response.json()["cohort_status"] == "admitted"
    return response.json()["id"]


def assessment(stage: str = "T0", given: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {"stage": stage, "questionnaire_version": "sme-v1", "answers": given or T0_ANSWERS, **fields}


async def stored(intake: Intake) -> dict[str, int]:
    return {m.__name__: await intake.count(m) for m in (Assessment, OutboxRecord, StoredResponse)}


async def test_a_t0_entered_by_staff_is_scored_stored_and_published_without_personal_data(
    intake: Intake, company: str
):
    response = await intake.call("POST", f"/companies/{company}/assessments", assessment())

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "stage", "dimensions", "overall", "band"}
    assert body["stage"] == "T0"
    assert body["dimensions"] == {
        "digital_business_strategy": 20.0, "digital_readiness": 33.6, "human_centric_digitalisation": 33.0,
        "data_management": 29.8, "automation_ai": 60.0, "green_digitalisation": 55.0,
    }
    # (20 + 235/7 + 925/28 + 625/21 + 60 + 55) / 6 = 38.566...
    assert (body["overall"], body["band"]) == (38.6, "average")
    [(_, event)] = await intake.events("assessment-completed")
    assert event["assessment_id"] == body["id"]
    assert (event["stage"], event["questionnaire_version"], event["band"]) == ("T0", "sme-v1", "average")
    assert (event["dimensions"], event["overall"]) == (body["dimensions"], 38.6)
    assert not {"answers", "name", "email"} & set(event)


async def test_t0_and_t1_are_read_back_with_the_delta_from_the_exact_scores(intake: Intake, company: str):
    before = await intake.call("GET", f"/companies/{company}/assessments", role="viewer")
    t0 = (await intake.call("POST", f"/companies/{company}/assessments", assessment())).json()
    only_t0 = await intake.call("GET", f"/companies/{company}/assessments", role="viewer")
    t1 = (await intake.call("POST", f"/companies/{company}/assessments", assessment("T1", T1_ANSWERS))).json()

    both = (await intake.call("GET", f"/companies/{company}/assessments", role="viewer")).json()

    assert before.json() == {"T0": None, "T1": None, "delta": None}
    assert only_t0.json() == {"T0": t0, "T1": None, "delta": None}
    assert (both["T0"], both["T1"]) == (t0, t1)
    # human-centric: Q6 3/8 -> 4/8, (20/7 + 5) x 5 - 925/28 = 25/4 = 6.25 -> 6.3 (the shown scores give 6.2)
    assert t1["dimensions"]["human_centric_digitalisation"] == 39.3
    assert both["delta"]["dimensions"] == {
        "digital_business_strategy": 0.0, "digital_readiness": 0.0, "human_centric_digitalisation": 6.3,
        "data_management": 0.0, "automation_ai": 0.0, "green_digitalisation": 0.0,
    }
    # overall: 6.25 / 6 = 1.04
    assert both["delta"]["overall"] == 1.0


def _without(qid: str, item: str | None = None) -> dict[str, Any]:
    given = copy.deepcopy(T0_ANSWERS)
    if item is None:
        del given[qid]
    else:
        del given[qid][item]
    return given


def _with(qid: str, **items: Any) -> dict[str, Any]:
    given = copy.deepcopy(T0_ANSWERS)
    given[qid].update({k.replace("_", "."): v for k, v in items.items()})
    return given


INVALID = {
    "a question missing": (_without("q5"), ["q5: missing"]),
    "an item missing": (_without("q9", "q9.5"), ["q9.5: missing"]),
    "an unknown question and item": ({**_with("q2", q2_11=True), "q12": {}},
                                     ["q2.11: unknown item of q2", "q12: unknown question"]),
    "a rating out of range and a checkbox as a number": (
        _with("q4", q4_1=6) | {"q3": {**T0_ANSWERS["q3"], "q3.1": 1}},
        ["q3.1: must be true or false", "q4.1: 6 is out of range 0 to 5"]),
    "q7.2 with another data item": (_with("q7", q7_2=True), ["q7.2: 'not collected digitally' cannot be"]),
    "q11 outside no/partially/yes and q1 without planned": (
        _with("q11", q11_3="sometimes") | {"q1": {**T0_ANSWERS["q1"], "q1.4": {"invested": True}}},
        ['q1.4: must be {"invested"', 'q11.3: must be "no", "partially" or "yes"']),
}


async def test_invalid_answers_are_422_naming_every_offending_item_and_store_nothing(
    intake: Intake, company: str
):
    counts = await stored(intake)
    for case, (given, problems) in INVALID.items():
        response = await intake.client.post(
            f"/companies/{company}/assessments", json=assessment(given=given),
            headers=intake.auth("advisor", **{"Idempotency-Key": case}),
        )

        assert response.status_code == 422, (case, response.text)
        assert len(response.json()["errors"]) == len(problems), case
        for problem in problems:
            assert problem in response.json()["message"], case
    assert await stored(intake) == counts


async def test_an_unknown_stage_or_questionnaire_version_is_422(intake: Intake, company: str):
    counts = await stored(intake)
    for field, value in [("stage", "T2"), ("questionnaire_version", "sme-v0")]:
        body = assessment(**{field: value})
        response = await intake.call("POST", f"/companies/{company}/assessments", body)
        assert response.status_code == 422
        assert field in response.json()["message"]
    assert await stored(intake) == counts


async def test_a_t1_before_the_t0_or_a_second_t0_is_409_and_stores_nothing(intake: Intake, company: str):
    early = await intake.call("POST", f"/companies/{company}/assessments", assessment("T1"))
    assert early.status_code == 409
    assert "needs the T0" in early.json()["detail"]
    assert (await stored(intake))["Assessment"] == 0
    first = await intake.call("POST", f"/companies/{company}/assessments", assessment())
    counts = await stored(intake)

    second = await intake.client.post(
        f"/companies/{company}/assessments", json=assessment(given=T1_ANSWERS),
        headers=intake.auth("admin", **{"Idempotency-Key": "second-t0"}),
    )

    assert second.status_code == 409
    assert "already has a T0" in second.json()["detail"]
    assert await stored(intake) == counts
    assert (await intake.call("GET", f"/companies/{company}/assessments")).json()["T0"] == first.json()


async def test_two_first_t0s_at_once_store_one(intake: Intake, company: str):
    responses = await asyncio.gather(
        *(intake.call("POST", f"/companies/{company}/assessments", assessment()) for _ in range(3))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    assert (await stored(intake))["Assessment"] == 1
    assert len(await intake.events("assessment-completed")) == 1


async def test_a_waitlisted_company_is_not_assessed_yet(settings: Settings):
    full = IntakeSettings.of(settings, intake_pool_sizes={"drenthe": 0, "groningen-friesland": 0})
    async with running_intake(full) as intake:
        company = (await intake.register(registration())).json()
        response = await intake.call("POST", f"/companies/{company['id']}/assessments", assessment())
        assert response.status_code == 409
        assert "waitlisted" in response.json()["detail"]


async def test_the_company_fills_in_the_questionnaire_through_its_link_in_its_language(
    intake: Intake, company: str
):
    link = await intake.call("POST", f"/companies/{company}/questionnaire-link", {"stage": "T0"})
    assert link.status_code == 201, link.text
    url = link.json()["url"]
    assert url.startswith(f"{intake.settings.url_of('intake')}/questionnaire/")
    assert link.json()["expires_at"] == "2026-04-13T09:30:00Z"  # 42 days after NOW
    path = url.removeprefix(intake.settings.url_of("intake"))

    english = await intake.client.get(path)  # the primary contact, Anna, reads English
    dutch = await intake.client.get(path, params={"lang": "nl"})
    answered = await intake.client.post(path, json={"answers": T0_ANSWERS})
    again = await intake.client.post(path, json={"answers": T0_ANSWERS})

    assert english.status_code == 200
    assert (english.json()["language"], english.json()["stage"]) == ("en", "T0")
    assert english.json()["questions"][0]["items"][0]["text"] == "Product or service design, including R&D"
    assert dutch.json()["questions"][0]["items"][0]["text"] == "Product- of dienstontwerp, inclusief R&D"
    assert answered.status_code == 201, answered.text
    assert answered.json()["overall"] == 38.6
    assert again.status_code == 409
    async with intake.ctx.db.reading() as session:
        [row] = (await session.execute(Assessment.__table__.select())).all()  # type: ignore[attr-defined]
    assert row.entered_by == "company"


async def link_token(intake: Intake, company: str) -> str:
    response = await intake.call("POST", f"/companies/{company}/questionnaire-link", {"stage": "T0"})
    return str(response.json()["token"])


async def test_invalid_answers_through_the_link_are_422_too(intake: Intake, company: str):
    token = await link_token(intake, company)
    response = await intake.client.post(f"/questionnaire/{token}", json={"answers": _without("q3")})
    assert response.status_code == 422
    assert response.json()["errors"] == ["q3: missing"]
    assert (await stored(intake))["Assessment"] == 0


async def test_an_expired_forged_or_staff_token_does_not_open_the_questionnaire(
    intake: Intake, company: str
):
    token = await link_token(intake, company)
    staff_token = intake.auth("admin")["Authorization"].removeprefix("Bearer ")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    assert (await intake.client.get(f"/questionnaire/{staff_token}")).status_code == 403
    assert (await intake.client.get(f"/questionnaire/{forged}")).status_code == 403
    # A link is no bearer token for the staff API.
    as_bearer = await intake.client.get(f"/companies/{company}", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    intake.clock.advance(timedelta(days=42))
    expired = await intake.client.post(f"/questionnaire/{token}", json={"answers": T0_ANSWERS})
    assert expired.status_code == 403
    assert "expired" in expired.json()["detail"]
    assert (await stored(intake))["Assessment"] == 0


async def test_a_service_gets_the_link_for_a_message_and_staff_cannot(intake: Intake, company: str):
    url = f"/internal/questionnaire-links/{company}/T1"
    link = await intake.call("GET", url, role="service")
    assert link.status_code == 200
    assert link.json()["stage"] == "T1"
    opened = await intake.client.get(link.json()["url"].removeprefix(intake.settings.url_of("intake")))
    assert opened.json()["stage"] == "T1"
    assert (await intake.call("GET", url, role="admin")).status_code == 403
