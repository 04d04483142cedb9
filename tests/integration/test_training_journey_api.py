"""Training answering the journey, with the service in-process on a real broker and database
(SQLite, and PostgreSQL where EDIH_TEST_POSTGRES_URL is set): `service-requested` opens a training
need (also for a company training has not heard of yet), staff link it to a course, and attendance
after its last session delivers it as `service-completed` worth the cost per participant for every
attendee; a cancellation or an exit closes it, answered once; recommendations follow the T0; an
erasure forgets the participants and says so; the participants' recipients and export are for
services only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.contracts.intake import AssessmentCompleted, ContactsErased, DimensionScores
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.services import ServiceCancellationRequested, ServiceRequested
from shared.settings import Settings
from tests.support.training import Training, at, course, participant, running_training, session_at

pytestmark = pytest.mark.timeout(120)

THURSDAY = ("2026-03-12T10:00:00", "2026-03-12T14:00:00")
AFTER_THURSDAY = at("2026-03-12T13:00:00+00:00")


@pytest.fixture
async def training(settings: Settings) -> AsyncIterator[Training]:
    async with running_training(settings) as running:
        yield running


def requested(company_id: str, plan_item_id: str | None = None) -> ServiceRequested:
    return ServiceRequested(hub_id="nl-noord", company_id=company_id,
                            plan_item_id=plan_item_id or str(uuid.uuid4()), kind="training",
                            title="Cobots for the welding line")


async def course_with_session(training: Training, cost: str = "350.00", capacity: int = 4) -> tuple[str, str]:
    course_id = (await training.ok("POST", "/courses", course(cost_per_participant_eur=cost)))["id"]
    session = await training.ok("POST", f"/courses/{course_id}/sessions", session_at(*THURSDAY, capacity))
    return course_id, session["id"]


async def attend(training: Training, session_id: str, company_id: str, came: int, absent: int) -> None:
    marks = []
    for n in range(came + absent):
        enrolment = await training.ok("POST", f"/sessions/{session_id}/enrolments",
                                      participant(company_id, n))
        marks.append({"enrolment_id": enrolment["id"], "attendance": "attended" if n < came else "absent"})
    training.clock.moment = AFTER_THURSDAY
    await training.ok("POST", f"/sessions/{session_id}/attendance", {"participants": marks})


async def test_a_need_is_delivered_when_its_course_was_attended_worth_each_attendee(training: Training):
    company = await training.register()
    command = requested(company)
    await training.feed("service-requested", command, sender="journey")
    course_id, session_id = await course_with_session(training, cost="412.50")

    need = await training.ok("GET", f"/needs/{command.plan_item_id}")
    assert (need["status"], need["company_id"]) == ("open", company)
    linked = await training.ok("POST", f"/needs/{command.plan_item_id}/course", {"course_id": course_id})
    assert linked["course_id"] == course_id
    assert await training.events("service-completed") == []

    await attend(training, session_id, company, came=2, absent=1)

    ((_, completed),) = await training.events("service-completed")
    assert completed["plan_item_id"] == command.plan_item_id
    assert Decimal(completed["value_eur"]) == Decimal("825.00")  # two attended, one did not
    assert datetime.fromisoformat(completed["completed_at"]).astimezone(UTC) == AFTER_THURSDAY
    assert (await training.ok("GET", f"/needs/{command.plan_item_id}"))["status"] == "completed"

    # Completed already: a cancellation is answered with the delivery again, nothing new.
    await training.feed("service-cancellation-requested", ServiceCancellationRequested(
        hub_id="nl-noord", company_id=company, plan_item_id=command.plan_item_id, reason="plan changed",
        actor="7",
    ), sender="journey")
    assert await training.events("service-cancelled") == []
    assert len(await training.events("service-completed")) == 1


async def test_a_command_for_a_company_not_seen_yet_is_kept_and_learns_its_region_later(training: Training):
    company = str(uuid.uuid4())
    command = requested(company)
    outcome = await training.feed("service-requested", command, sender="journey")
    assert outcome != "dead-lettered"
    assert (await training.ok("GET", f"/needs/{command.plan_item_id}"))["status"] == "open"
    # Before the registration nobody knows its region: an advisor does not see it yet.
    hidden = await training.call("GET", f"/needs/{command.plan_item_id}", role="advisor", regions=["drenthe"])
    assert hidden.status_code == 404

    await training.register(company, region="drenthe")
    need = f"/needs/{command.plan_item_id}"
    seen = await training.call("GET", need, role="advisor", regions=["drenthe"])
    other = await training.call("GET", need, role="advisor", regions=["friesland"])
    assert seen.status_code == 200 and other.status_code == 404


async def test_a_cancellation_closes_the_need_and_its_open_enrolments_once(training: Training):
    company = await training.register()
    command = requested(company)
    await training.feed("service-requested", command, sender="journey")
    course_id, session_id = await course_with_session(training)
    await training.ok("POST", f"/needs/{command.plan_item_id}/course", {"course_id": course_id})
    enrolment = await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company))

    cancellation = ServiceCancellationRequested(hub_id="nl-noord", company_id=company,
                                                plan_item_id=command.plan_item_id, reason="plan changed",
                                                actor="7")
    for _ in range(2):  # a repeated command (a new event id) answers nothing more
        await training.feed("service-cancellation-requested", cancellation, sender="journey")

    ((_, cancelled),) = await training.events("service-cancelled")
    assert cancelled["plan_item_id"] == command.plan_item_id
    assert cancelled["reason"] == "cancelled by staff: plan changed"
    assert (await training.ok("GET", f"/needs/{command.plan_item_id}"))["status"] == "cancelled"
    assert (await training.ok("GET", f"/enrolments/{enrolment['id']}"))["status"] == "cancelled"
    refused = await training.call("POST", f"/needs/{command.plan_item_id}/course", {"course_id": course_id})
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"]


async def test_an_exit_of_the_journey_closes_open_needs_with_service_cancelled(training: Training):
    company = await training.register()
    command = requested(company)
    await training.feed("service-requested", command, sender="journey")
    await training.feed("journey-stage-changed", JourneyStageChanged(
        hub_id="nl-noord", company_id=company, from_stage="in_services", to_stage="withdrawn",
        at=training.clock.now(), reason="company stopped", actor="7",
    ), sender="journey")
    ((_, cancelled),) = await training.events("service-cancelled")
    assert cancelled["plan_item_id"] == command.plan_item_id
    assert "withdrawn" in cancelled["reason"]


async def test_courses_are_recommended_for_the_weakest_dimensions_of_the_t0(training: Training):
    data = (await training.ok("POST", "/courses", course(dimensions=["data_management"], topic="data")))["id"]
    green = (await training.ok("POST", "/courses", course(dimensions=["green_digitalisation"])))["id"]
    company = await training.register()
    await training.feed("assessment-completed", AssessmentCompleted(
        hub_id="nl-noord", company_id=company, assessment_id=str(uuid.uuid4()), stage="T0",
        questionnaire_version="dma-sme-v1", overall=41.0, band="average",
        dimensions=DimensionScores(digital_business_strategy=50, digital_readiness=60,
                                   human_centric_digitalisation=55, data_management=10,
                                   automation_ai=70, green_digitalisation=80),
        completed_at=training.clock.now(),
    ))

    proposals = await training.ok("GET", f"/companies/{company}/recommendations", role="viewer")
    assert [p["course_id"] for p in proposals] == [data]
    assert "data management" in proposals[0]["reason"]
    ((_, event),) = await training.events("training-recommended")
    assert [c["course_id"] for c in event["courses"]] == [data] and green not in str(event)


async def test_an_erasure_forgets_the_participants_and_tells_notifications(training: Training):
    _, session_id = await course_with_session(training)
    company = await training.register()
    enrolment = await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company))
    path = f"/internal/recipients/participant/{enrolment['id']}"
    recipient = await training.ok("GET", path, role="service")
    assert recipient == {"name": "Deelnemer 1", "email": "p1@staalbouw.nl", "language": "nl"}
    staff = await training.call("GET", path, role="admin")
    assert staff.status_code == 403
    exported = await training.ok("GET", f"/internal/personal-data/{company}", role="service")
    assert "p1@staalbouw.nl" in str(exported)

    await training.feed("contacts-erased", ContactsErased(hub_id="nl-noord", company_id=company,
                                                          erased_at=training.clock.now()))

    assert "p1@staalbouw.nl" not in str(await training.ok("GET", f"/internal/personal-data/{company}",
                                                          role="service"))
    gone = await training.call("GET", path, role="service")
    assert gone.status_code in (404, 410)
    ((_, erased),) = await training.events("contacts-erased", topic="edih.training.events")
    assert erased["company_id"] == company
    # The seat stays counted, anonymously.
    kept = await training.ok("GET", f"/enrolments/{enrolment['id']}")
    assert kept["status"] == "confirmed" and "Deelnemer" not in str(kept)


async def test_a_retried_enrolment_with_the_same_key_enrols_once(training: Training):
    _, session_id = await course_with_session(training)
    company = await training.register()
    headers = {**training.auth("admin"), "Idempotency-Key": f"enrol-{company}"}
    first = await training.client.post(f"/sessions/{session_id}/enrolments", json=participant(company),
                                       headers=headers)
    again = await training.client.post(f"/sessions/{session_id}/enrolments", json=participant(company),
                                       headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    listed = await training.ok("GET", f"/sessions/{session_id}/enrolments")
    assert [e["id"] for e in listed] == [first.json()["id"]]
    assert len(await training.events("enrolment-confirmed")) == 1
