"""The training catalogue and enrolments as a client sees them, with the service in-process on a
real Tansu broker and a real database (SQLite, and PostgreSQL where EDIH_TEST_POSTGRES_URL is set):
courses and sessions (local time in, UTC stored, seats left), enrolment with a waitlist in order and
promotion when a seat frees, the cut-off, attendance and certificates, roles, bad input, and two
concurrent enrolments never taking the same last seat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from shared.contracts.journey import JourneyStageChanged
from shared.settings import Settings
from tests.support.training import Training, at, course, participant, running_training, session_at

pytestmark = pytest.mark.timeout(120)

# NOW is Monday 2 March 2026, 10:30 in Amsterdam; this session is on Thursday 12 March.
THURSDAY = ("2026-03-12T10:00:00", "2026-03-12T14:00:00")


@pytest.fixture
async def training(settings: Settings) -> AsyncIterator[Training]:
    async with running_training(settings) as running:
        yield running


async def planned(training: Training, capacity: int = 2, **fields: object) -> tuple[str, str]:
    """A course and one Thursday session of it: (course id, session id)."""
    course_id = (await training.ok("POST", "/courses", course(**fields)))["id"]
    session = await training.ok("POST", f"/courses/{course_id}/sessions", session_at(*THURSDAY, capacity))
    return course_id, session["id"]


async def test_courses_are_created_listed_changed_and_retired(training: Training):
    created = await training.ok("POST", "/courses", course())
    assert (created["status"], created["cost_per_participant_eur"], created["dimensions"]) == (
        "active",
        "350.00",
        ["automation_ai", "digital_readiness"],
    )

    changed = await training.ok("PATCH", f"/courses/{created['id']}", {"cost_per_participant_eur": "400"})
    retired = await training.ok("PATCH", f"/courses/{created['id']}", {"status": "retired"})

    assert changed["cost_per_participant_eur"] == "400.00"
    assert retired["status"] == "retired"
    assert await training.ok("GET", "/courses", status="active") == []
    assert [c["id"] for c in await training.ok("GET", "/courses", role="viewer")] == [created["id"]]
    response = await training.call("POST", f"/courses/{created['id']}/sessions", session_at(*THURSDAY))
    assert response.status_code == 409 and "retired" in response.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"dimensions": ["cooking"]}, "unknown DMA dimension"),
        ({"partner": "acme"}, "unknown delivery partner"),
        ({"cost_per_participant_eur": "-1"}, "cost_per_participant_eur"),
        ({"format": "by post"}, "format"),
    ],
)
async def test_a_course_with_bad_input_is_refused(training: Training, fields: dict, problem: str):
    response = await training.call("POST", "/courses", course(**fields))

    assert response.status_code == 422
    assert problem in response.json()["message"]


async def test_roles_viewers_read_and_only_staff_write(training: Training):
    assert (await training.call("POST", "/courses", course(), role="viewer")).status_code == 403
    assert (await training.call("GET", "/courses", role=None)).status_code == 401
    assert (await training.call("GET", "/internal/personal-data/x", role="admin")).status_code == 403
    assert (await training.call("POST", "/courses", course(), role="advisor")).status_code == 201


async def test_sessions_are_given_in_local_time_stored_in_utc_and_listed_with_seats_left(training: Training):
    course_id, session_id = await planned(training, capacity=3)
    company = await training.register()
    await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company))

    [listed] = await training.ok(
        "GET",
        "/sessions",
        **{"from": "2026-03-12T00:00:00", "to": "2026-03-13T00:00:00", "course_id": course_id},
    )

    assert listed["starts_at"] == "2026-03-12T09:00:00Z"  # 10:00 in Amsterdam (CET)
    assert listed["starts_local"] == "2026-03-12T10:00:00+01:00"
    assert (listed["capacity"], listed["confirmed"], listed["seats_left"]) == (3, 1, 2)
    # Two hub business days before Thursday: enrolment closes at the start of Tuesday.
    assert listed["enrolment_closes_at"] == "2026-03-10T07:30:00Z"
    assert await training.ok("GET", "/sessions", **{"from": "2026-03-13T00:00:00"}) == []


async def test_bad_session_input_is_refused(training: Training):
    course_id, _ = await planned(training)

    backwards = await training.call(
        "POST", f"/courses/{course_id}/sessions", session_at("2026-03-12T14:00:00", "2026-03-12T10:00:00")
    )
    past = await training.call(
        "POST", f"/courses/{course_id}/sessions", session_at("2026-03-01T10:00:00", "2026-03-01T12:00:00")
    )
    nowhere = await training.call(
        "POST",
        f"/courses/{course_id}/sessions",
        {"starts_at": THURSDAY[0], "ends_at": THURSDAY[1], "capacity": 2},
    )
    unknown = await training.call("POST", "/courses/no-such-course/sessions", session_at(*THURSDAY))

    assert [r.status_code for r in (backwards, past, nowhere, unknown)] == [422, 422, 422, 404]
    assert "ends_at: must be after starts_at" in backwards.json()["detail"]
    assert "no course with id no-such-course" == unknown.json()["detail"]


async def test_a_full_session_waitlists_in_order_and_promotes_when_a_seat_frees(training: Training):
    _, session_id = await planned(training, capacity=2)
    company = await training.register()
    enrolled = [
        await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company, n))
        for n in range(1, 5)
    ]

    assert [(e["status"], e["waitlist_position"]) for e in enrolled] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]

    cancelled = await training.ok("POST", f"/enrolments/{enrolled[0]['id']}/cancellation", {"reason": "ill"})
    third = await training.ok("GET", f"/enrolments/{enrolled[2]['id']}")
    fourth = await training.ok("GET", f"/enrolments/{enrolled[3]['id']}")

    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "ill")
    assert (third["status"], fourth["status"]) == ("confirmed", "waitlisted")
    names = [name for name, _ in await training.events() if name.startswith("enrolment-")]
    assert names == [
        "enrolment-confirmed",
        "enrolment-confirmed",
        "enrolment-waitlisted",
        "enrolment-waitlisted",
        "enrolment-cancelled",
        "enrolment-promoted",
    ]
    [(_, promoted)] = await training.events("enrolment-promoted")
    assert promoted["enrolment_id"] == enrolled[2]["id"]
    assert "participant_name" not in promoted and "email" not in promoted  # ids only
    # The promoted participant is told at once (a message type only v2 of the request can name).
    told = [d for _, d in await training.events("notification-requested")
            if d["message_type"] == "training-enrolment-promoted"]
    assert [(d["recipient"], d["urgency"], d["not_before"]) for d in told] == [
        ({"service": "training", "kind": "participant", "id": enrolled[2]["id"]}, "transactional", None)
    ]
    assert told[0]["context"]["course_title"] and told[0]["context"]["starts_at"]

    # More seats go to the waitlist too; fewer than those confirmed is refused.
    grown = await training.ok("PATCH", f"/sessions/{session_id}", {"capacity": 3})
    assert (grown["confirmed"], grown["waitlisted"], grown["seats_left"]) == (3, 0, 0)
    shrunk = await training.call("PATCH", f"/sessions/{session_id}", {"capacity": 2})
    assert shrunk.status_code == 409
    assert shrunk.json()["detail"] == "capacity 2 is below the 3 participants already confirmed"


async def test_enrolment_and_cancellation_close_at_the_cut_off(training: Training):
    _, session_id = await planned(training)
    company = await training.register()
    early = await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company, 1))

    training.clock.moment = at("2026-03-10T07:30:00+00:00")  # Tuesday 08:30 in Amsterdam
    late = await training.call("POST", f"/sessions/{session_id}/enrolments", participant(company, 2))
    cancel = await training.call("POST", f"/enrolments/{early['id']}/cancellation", {"reason": "busy"})
    training.clock.moment = at("2026-03-12T09:30:00+00:00")  # the session runs
    past = await training.call("POST", f"/sessions/{session_id}/enrolments", participant(company, 3))

    assert (late.status_code, cancel.status_code, past.status_code) == (409, 409, 409)
    assert late.json()["detail"] == (
        "enrolment closed at 2026-03-10T07:30:00+00:00 (the cut-off before the session)"
    )
    assert cancel.json()["detail"].startswith("too late to cancel: enrolment closed")
    assert past.json()["detail"] == "the session started at 2026-03-12T09:00:00+00:00"


async def test_bad_enrolments_are_refused(training: Training):
    _, session_id = await planned(training)
    company = await training.register()
    await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company))

    unknown_company = await training.call("POST", f"/sessions/{session_id}/enrolments", participant("nobody"))
    unknown_session = await training.call("POST", "/sessions/nothing/enrolments", participant(company))
    again = await training.call(
        "POST", f"/sessions/{session_id}/enrolments", participant(company, email="P1@staalbouw.nl")
    )
    malformed = await training.call(
        "POST", f"/sessions/{session_id}/enrolments", participant(company, email="not an address")
    )
    other_region = await training.call(
        "POST",
        f"/sessions/{session_id}/enrolments",
        participant(company, 2),
        role="advisor",
        regions=["groningen"],
    )

    assert [r.status_code for r in (unknown_company, unknown_session, again, malformed, other_region)] == [
        404,
        404,
        409,
        422,
        404,
    ]
    assert "already enrolled" in again.json()["detail"]


async def test_a_company_that_left_cannot_enrol_and_its_open_enrolments_are_cancelled(training: Training):
    _, session_id = await planned(training, capacity=1)
    leaving, waiting = await training.register(), await training.register()
    seated = await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(leaving, 1))
    queued = await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(waiting, 2))

    await training.feed(
        "journey-stage-changed",
        JourneyStageChanged(
            hub_id="nl-noord",
            company_id=leaving,
            from_stage="in_services",
            to_stage="withdrawn",
            at=training.clock.now(),
            reason="no time",
            actor="17",
        ),
        sender="journey",
    )
    refused = await training.call("POST", f"/sessions/{session_id}/enrolments", participant(leaving, 3))

    assert refused.status_code == 409
    assert refused.json()["detail"] == f"company {leaving} has left the programme (withdrawn)"
    gone = await training.ok("GET", f"/enrolments/{seated['id']}")
    assert (gone["status"], gone["cancel_reason"]) == (
        "cancelled",
        "the company left the programme (withdrawn)",
    )
    assert (await training.ok("GET", f"/enrolments/{queued['id']}"))["status"] == "confirmed"


async def test_attendance_after_the_session_and_a_certificate_for_who_attended(training: Training):
    _, session_id = await planned(training)
    company = await training.register()
    came = await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company, 1))
    absent = await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company, 2))
    marks = {
        "participants": [
            {"enrolment_id": came["id"], "attendance": "attended"},
            {"enrolment_id": absent["id"], "attendance": "absent"},
        ]
    }

    early = await training.call("POST", f"/sessions/{session_id}/attendance", marks)
    training.clock.moment = at("2026-03-12T13:00:00+00:00")
    recorded = await training.ok("POST", f"/sessions/{session_id}/attendance", marks)
    certificate = await training.call("GET", f"/enrolments/{came['id']}/certificate", role="viewer")
    none = await training.call("GET", f"/enrolments/{absent['id']}/certificate")

    assert early.status_code == 409 and "attendance is recorded after it" in early.json()["detail"]
    assert [r["attendance"] for r in recorded] == ["attended", "absent"]
    assert [d["attended"] for _, d in await training.events("attendance-recorded")] == [True, False]
    assert certificate.status_code == 200
    assert certificate.headers["content-type"] == "application/pdf"
    assert certificate.content.startswith(b"%PDF")
    assert none.status_code == 409


async def test_concurrent_enrolments_never_take_the_same_last_seat(settings: Settings):
    async with running_training(settings) as training:
        _, session_id = await planned(training, capacity=1)
        company = await training.register()

        responses = await asyncio.gather(
            *(
                training.call("POST", f"/sessions/{session_id}/enrolments", participant(company, n))
                for n in range(1, 6)
            )
        )

        assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
        statuses = sorted(r.json()["status"] for r in responses)
        assert statuses == ["confirmed"] + ["waitlisted"] * 4
        positions = sorted(r.json()["waitlist_position"] for r in responses if r.json()["waitlist_position"])
        assert positions == [1, 2, 3, 4]
        [listed] = await training.ok("GET", "/sessions")
        assert (listed["confirmed"], listed["seats_left"]) == (1, 0)


async def test_a_session_that_has_started_promotes_nobody(training: Training):
    _, session_id = await planned(training, capacity=1)
    company = await training.register()
    await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company, 1))
    await training.ok("POST", f"/sessions/{session_id}/enrolments", participant(company, 2))
    training.clock.advance(timedelta(days=10, hours=1))  # Thursday, the session runs

    grown = await training.ok("PATCH", f"/sessions/{session_id}", {"capacity": 2})

    assert (grown["confirmed"], grown["waitlisted"]) == (1, 1)
