"""Exits decided on the journey reach the cohort, through the real Tansu broker, on SQLite and
PostgreSQL: a `journey-stage-changed` to referred_out, withdrawn or not_eligible on the journey's
events topic ends the company's place by intake's rules and admits the first waitlisted company,
once, also when delivered twice; it is logged with the journey's actor and reason but not published
again; the journey's echo of an exit intake made itself changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import select

from shared.contracts import CloudEvent, build_event
from shared.contracts.journey import JourneyStageChanged
from shared.inbox import DeadLetter, ProcessedEvent
from shared.settings import Settings
from tests.integration.test_intake_api import NOW, Intake, running_intake
from tests.integration.test_intake_cohort_api import agree_plan, register, sized, trail
from tests.support.waiting import eventually

STAFF = "advisor@edih.local"


@pytest.fixture
async def intake(settings: Settings) -> AsyncIterator[Intake]:
    """Two places in Drenthe."""
    async with running_intake(sized(settings, 2)) as running:
        yield running


def stage_change(company_id: str, to_stage: str, *, reason: str = "moved to a partner hub",
                 actor: str = STAFF, from_stage: str = "registered") -> CloudEvent:
    data = JourneyStageChanged(hub_id="nl-noord", company_id=company_id, from_stage=from_stage,
                               to_stage=to_stage, at=NOW, reason=reason, actor=actor)
    return build_event("journey-stage-changed", data, sender="journey", at=NOW)[1]


async def publish(intake: Intake, *events: CloudEvent) -> None:
    """Publish `events` on the journey's events topic (keyed by company, as the journey does) and
    wait until intake has consumed the last; those before it on that company's partition too."""
    producer = AIOKafkaProducer(bootstrap_servers=intake.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(intake.settings.topic("edih.journey.events"), event.to_bytes(),
                                         key=event.subject.encode())
    finally:
        await producer.stop()
    last = events[-1].id

    async def consumed() -> bool:
        async with intake.ctx.db.reading() as session:
            seen = await session.execute(select(ProcessedEvent).where(ProcessedEvent.event_id == last))
            letters = await session.execute(select(DeadLetter).where(DeadLetter.event_id == last))
        return seen.first() is not None or letters.first() is not None

    await eventually(consumed, timeout=30, message=f"intake consumed {events[-1].id}")


async def company(intake: Intake, company_id: str) -> dict[str, Any]:
    return (await intake.call("GET", f"/companies/{company_id}")).json()


async def names(intake: Intake) -> list[str]:
    return [name for name, _ in await intake.events()]


async def test_a_referral_out_on_the_journey_frees_the_place_and_admits_the_first_waitlisted_once(
    intake: Intake
):
    first, _second, third, fourth = [await register(intake, n) for n in range(1, 5)]
    # Referred out frees the place even after the plan was agreed.
    await agree_plan(intake, first["id"])
    referral = stage_change(first["id"], "referred_out", from_stage="in_services")

    # Delivered twice, then a later stage change into the same exit (another event id).
    await publish(intake, referral, referral,
                  stage_change(first["id"], "referred_out", reason="referred again"))

    assert await intake.events("company-admitted") == [
        ("company-admitted", {"hub_id": "nl-noord", "company_id": third["id"], "pool": "drenthe"})
    ]
    assert (await company(intake, third["id"]))["cohort_status"] == "admitted"
    assert (await company(intake, fourth["id"]))["cohort_status"] == "waitlisted"
    left = await company(intake, first["id"])
    assert (left["exit_status"], left["exit_reason"]) == ("referred_out", "moved to a partner hub")
    # Logged on both trails, with who decided it on the journey and why; not published again.
    assert (await trail(intake, first["id"]))[-1] == (
        "company-referred-out", STAFF,
        {"reason": "moved to a partner hub", "admitted_from_waitlist": third["id"],
         "decided_in": "journey", "event_id": referral.id},
    )
    assert [a for a, _, _ in await trail(intake, first["id"])].count("company-referred-out") == 1
    assert (await trail(intake, third["id"]))[-1][:2] == ("admitted-from-waitlist", "system")
    assert not {"company-withdrawn", "company-not-eligible"} & set(await names(intake))


@pytest.mark.parametrize(("stage", "action"), [("withdrawn", "company-withdrawn"),
                                               ("not_eligible", "company-not-eligible")])
async def test_a_withdrawal_or_not_eligible_on_the_journey_before_the_plan_frees_the_place_unpublished(
    intake: Intake, stage: str, action: str
):
    first, _second, third = [await register(intake, n) for n in range(1, 4)]

    await publish(intake, stage_change(first["id"], stage, reason="no time this year"))

    assert [d["company_id"] for _, d in await intake.events("company-admitted")] == [third["id"]]
    assert (await company(intake, first["id"]))["exit_status"] == stage
    assert (await trail(intake, first["id"]))[-1][:2] == (action, STAFF)
    assert action not in await names(intake)


async def test_an_exit_on_the_journey_after_the_plan_keeps_the_place(
    intake: Intake
):
    first, _second, third = [await register(intake, n) for n in range(1, 4)]
    await agree_plan(intake, first["id"])

    await publish(intake, stage_change(first["id"], "withdrawn", from_stage="in_services"))

    assert (await company(intake, first["id"]))["exit_status"] == "withdrawn"
    assert await intake.events("company-admitted") == []
    assert (await company(intake, third["id"]))["cohort_status"] == "waitlisted"


async def test_the_journeys_echo_of_an_exit_intake_made_changes_nothing(
    intake: Intake
):
    first, _second, third = [await register(intake, n) for n in range(1, 4)]
    withdrawn = await intake.call("POST", f"/companies/{first['id']}/withdrawal", {"reason": "busy"})
    assert withdrawn.status_code == 200
    events, trail_before = await intake.events(), await trail(intake, first["id"])

    # The journey applies company-withdrawn and publishes its stage change, with intake's actor.
    await publish(intake, stage_change(first["id"], "withdrawn", reason="busy", actor="tester"))

    assert await intake.events() == events
    assert await trail(intake, first["id"]) == trail_before
    assert [d["company_id"] for _, d in await intake.events("company-admitted")] == [third["id"]]


async def test_a_waitlisted_company_withdrawn_on_the_journey_loses_its_turn(
    intake: Intake
):
    first, _second, third, fourth = [await register(intake, n) for n in range(1, 5)]

    await publish(intake, stage_change(third["id"], "withdrawn", from_stage="waitlisted"))
    assert await intake.events("company-admitted") == []
    await intake.call("POST", f"/companies/{first['id']}/withdrawal", {"reason": "closing down"})

    assert [d["company_id"] for _, d in await intake.events("company-admitted")] == [fourth["id"]]
    assert (await company(intake, third["id"]))["exit_status"] == "withdrawn"


async def test_other_stages_companies_outside_the_cohort_and_unknown_companies_change_nothing(
    intake: Intake
):
    first, _second, third = [await register(intake, n) for n in range(1, 4)]
    outside = await register(intake, 4, nace_code="62.01")
    events = await intake.events()
    unknown = stage_change(str(uuid.uuid4()), "withdrawn")

    # A company that completes its journey keeps its place; one outside the cohort starts its
    # journey as not eligible, which is no exit from the cohort.
    await publish(intake, stage_change(first["id"], "closed", from_stage="follow_up_completed"))
    await publish(intake, stage_change(outside["id"], "not_eligible", from_stage=None))
    await publish(intake, unknown)

    # Nothing published but the unknown company's event, as a dead letter.
    assert await intake.events() == [*events, ("eu.edih.journey.journey-stage-changed", unknown.data)]
    assert (await company(intake, first["id"]))["exit_status"] is None
    assert (await company(intake, outside["id"]))["exit_status"] is None
    assert (await company(intake, third["id"]))["cohort_status"] == "waitlisted"
    async with intake.ctx.db.reading() as session:
        [letter] = (await session.execute(select(DeadLetter))).scalars().all()
    assert letter.event_id == unknown.id
    assert letter.error == f"refused: no company {unknown.subject} in hub nl-noord"
