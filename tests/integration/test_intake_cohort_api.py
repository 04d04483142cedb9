"""The cohort through intake's API, on SQLite and PostgreSQL: manufacturers take a place in their
region's pool until it is full, then wait in order of registration; others are outside the cohort;
concurrent registrations never take the same last place; a place freed by a withdrawal or a
not-eligible decision before the plan goes to the first waitlisted company of that pool (on both
companies' audit trails); concurrent exits give every freed place to the next in line, also when
their rows are locked; places a pool gained are filled when the service starts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.intake import places
from services.intake.models import Company
from services.intake.settings import IntakeSettings
from shared.settings import Settings
from tests.integration.test_intake_api import Intake, registration, running_intake
from tests.support.waiting import eventually
from tests.unit.test_intake_dma import answers


@pytest.fixture
async def intake(settings: Settings) -> AsyncIterator[Intake]:
    """Small pools: two places in Drenthe, one in Groningen-Friesland."""
    small = IntakeSettings.of(settings, intake_pool_sizes={"drenthe": 2, "groningen-friesland": 1})
    async with running_intake(small) as running:
        yield running


async def register(intake: Intake, n: int, **fields: Any) -> dict[str, Any]:
    response = await intake.register(registration(f"{n:08d}", legal_name=f"Company {n}", **fields))
    assert response.status_code == 201, response.text
    return response.json()


async def test_manufacturers_fill_their_pool_then_wait_in_order_of_registration(intake: Intake):
    first, second, third, fourth = [await register(intake, n) for n in range(1, 5)]
    groningen = await register(intake, 5, region="groningen")
    friesland = await register(intake, 6, region="friesland", nace_code="10.71")

    assert [c["cohort_status"] for c in (first, second, third, fourth)] == [
        "admitted", "admitted", "waitlisted", "waitlisted"
    ]
    assert (third["waitlist_position"], fourth["waitlist_position"]) == (1, 2)
    assert (groningen["pool"], groningen["cohort_status"]) == ("groningen-friesland", "admitted")
    # Groningen and Friesland share one pool of one place.
    assert (friesland["pool"], friesland["cohort_status"]) == ("groningen-friesland", "waitlisted")
    statuses = [d["cohort_status"] for _, d in await intake.events("company-registered")]
    assert statuses == ["admitted", "admitted", "waitlisted", "waitlisted", "admitted", "waitlisted"]


@pytest.mark.parametrize("nace_code", ["62.01", "4711"])
async def test_a_company_outside_manufacturing_is_registered_outside_the_cohort(
    intake: Intake, nace_code: str
):
    company = await register(intake, 1, nace_code=nace_code)

    assert (company["cohort_status"], company["pool"]) == ("outside_cohort", None)
    [(_, data)] = await intake.events("company-registered")
    assert data["cohort_status"] == "outside_cohort"
    # It takes no place: the next manufacturers are both admitted.
    assert [(await register(intake, n))["cohort_status"] for n in (2, 3)] == ["admitted", "admitted"]


async def test_concurrent_registrations_never_take_the_same_last_place(settings: Settings):
    one_place = IntakeSettings.of(settings, intake_pool_sizes={"drenthe": 1, "groningen-friesland": 1})
    async with running_intake(one_place) as intake:
        responses = await asyncio.gather(
            *(intake.register(registration(f"{n:08d}", legal_name=f"Racer {n}")) for n in range(1, 6))
        )

        assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
        statuses = sorted(r.json()["cohort_status"] for r in responses)
        assert statuses == ["admitted"] + ["waitlisted"] * 4
        positions = sorted(r.json()["waitlist_position"] for r in responses if r.json()["waitlist_position"])
        assert positions == [1, 2, 3, 4]
        async with intake.ctx.db.reading() as session:
            holders = await session.scalar(
                select(func.count()).select_from(Company).where(col(Company.holds_place).is_(True))
            )
        assert holders == 1


@pytest.mark.parametrize(("path", "event"), [("withdrawal", "company-withdrawn"),
                                             ("not-eligible", "company-not-eligible")])
async def test_a_place_freed_before_the_plan_goes_to_the_first_waitlisted_company(
    intake: Intake, path: str, event: str
):
    first, _second, third, fourth = [await register(intake, n) for n in range(1, 5)]

    response = await intake.call("POST", f"/companies/{first['id']}/{path}", {"reason": "no time this year"})

    assert response.status_code == 200, response.text
    assert (response.json()["exit_status"], response.json()["exit_reason"]) == (
        path.replace("-", "_").replace("withdrawal", "withdrawn"), "no time this year"
    )
    assert (await intake.call("GET", f"/companies/{third['id']}")).json()["cohort_status"] == "admitted"
    assert (await intake.call("GET", f"/companies/{fourth['id']}")).json()["cohort_status"] == "waitlisted"
    [(_, left)] = await intake.events(event)
    assert left == {"hub_id": "nl-noord", "company_id": first["id"], "reason": "no time this year",
                    "actor": "tester"}
    assert await intake.events("company-admitted") == [
        ("company-admitted", {"hub_id": "nl-noord", "company_id": third["id"], "pool": "drenthe"})
    ]
    # Both trails tell it: the company that left, and the one admitted into its place.
    assert (await trail(intake, first["id"]))[-1] == (
        event, "tester", {"reason": "no time this year", "admitted_from_waitlist": third["id"]}
    )
    assert (await trail(intake, third["id"]))[-1] == (
        "admitted-from-waitlist", "system",
        {"pool": "drenthe", "waitlist_position": 1, "place_freed_by": first["id"]},
    )


async def test_a_waitlisted_company_that_withdraws_frees_nothing_and_loses_its_turn(intake: Intake):
    first, _second, third, fourth = [await register(intake, n) for n in range(1, 5)]

    await intake.call("POST", f"/companies/{third['id']}/withdrawal", {"reason": "found another programme"})
    assert await intake.events("company-admitted") == []
    await intake.call("POST", f"/companies/{first['id']}/withdrawal", {"reason": "closing down"})

    assert [d["company_id"] for _, d in await intake.events("company-admitted")] == [fourth["id"]]
    assert (await intake.call("GET", f"/companies/{third['id']}")).json()["cohort_status"] == "waitlisted"


async def agree_plan(intake: Intake, company_id: str) -> None:
    """The T0, the intake interview held, and a plan agreed."""
    t0 = {"stage": "T0", "questionnaire_version": "sme-v1", "answers": answers(q2=3)}
    assert (await intake.call("POST", f"/companies/{company_id}/assessments", t0)).status_code == 201
    interview = {"advisor_id": "7", "scheduled_at": "2026-03-10T10:00"}
    assert (await intake.call("POST", f"/companies/{company_id}/intake", interview)).status_code == 201
    held = await intake.call("POST", f"/companies/{company_id}/intake/outcome", {"outcome": "completed"})
    assert held.status_code == 200, held.text
    agreed = await intake.call("POST", f"/companies/{company_id}/plan",
                               {"items": [{"kind": "training", "title": "Cobots for beginners"}]})
    assert agreed.status_code == 201, agreed.text


async def trail(intake: Intake, company_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, actor, changes) of the company's audit trail, oldest first."""
    entries = (await intake.call("GET", f"/companies/{company_id}/audit")).json()
    return [(e["action"], e["actor"], e["changes"]) for e in entries]


async def test_a_company_that_leaves_after_its_plan_was_agreed_keeps_its_place(intake: Intake):
    first, _second, third = [await register(intake, n) for n in range(1, 4)]
    await agree_plan(intake, first["id"])

    await intake.call("POST", f"/companies/{first['id']}/withdrawal", {"reason": "new owner"})

    assert await intake.events("company-admitted") == []
    assert (await intake.call("GET", f"/companies/{third['id']}")).json()["cohort_status"] == "waitlisted"


async def test_leaving_twice_is_409_and_publishes_nothing_more(intake: Intake):
    first = await register(intake, 1)
    await intake.call("POST", f"/companies/{first['id']}/withdrawal", {"reason": "busy"})
    events = await intake.events()

    again = await intake.call("POST", f"/companies/{first['id']}/not-eligible", {"reason": "not an SME"})

    assert again.status_code == 409
    assert "already left (withdrawn)" in again.json()["detail"]
    assert await intake.events() == events


async def test_only_staff_who_write_can_end_a_companys_journey(intake: Intake):
    first = await register(intake, 1)
    url = f"/companies/{first['id']}/withdrawal"
    assert (await intake.call("POST", url, {"reason": "x"}, role=None)).status_code == 401
    assert (await intake.call("POST", url, {"reason": "x"}, role="viewer")).status_code == 403
    assert (await intake.call("POST", url, {"reason": ""})).status_code == 422
    assert (await intake.call("GET", f"/companies/{first['id']}")).json()["exit_status"] is None


async def test_concurrent_withdrawals_admit_each_waitlisted_company_once(intake: Intake):
    first, second, third, fourth, fifth = [await register(intake, n) for n in range(1, 6)]

    responses = await asyncio.gather(
        *(intake.call("POST", f"/companies/{c['id']}/withdrawal", {"reason": "busy"})
          for c in (first, second))
    )

    assert [r.status_code for r in responses] == [200, 200]
    admitted = sorted(d["company_id"] for _, d in await intake.events("company-admitted"))
    assert admitted == sorted([third["id"], fourth["id"]])
    assert (await intake.call("GET", f"/companies/{fifth['id']}")).json()["cohort_status"] == "waitlisted"
    async with intake.ctx.db.reading() as session:
        holders = await session.scalar(
            select(func.count()).select_from(Company).where(col(Company.holds_place).is_(True))
        )
    assert holders == 2


def sized(settings: Settings, places: int) -> Settings:
    return IntakeSettings.of(settings, intake_pool_sizes={"drenthe": places, "groningen-friesland": 1})


async def test_when_a_pool_grows_the_waiting_companies_come_before_a_new_one(settings: Settings):
    async with running_intake(sized(settings, 1)) as intake:
        first, second = [await register(intake, n) for n in (1, 2)]
    async with running_intake(sized(settings, 2)) as intake:
        third = await register(intake, 3)

        assert (first["cohort_status"], second["cohort_status"]) == ("admitted", "waitlisted")
        assert (third["cohort_status"], third["waitlist_position"]) == ("waitlisted", 2)
        assert [d["company_id"] for _, d in await intake.events("company-admitted")] == [second["id"]]


async def test_when_a_pool_grows_the_service_admits_the_waiting_companies_into_the_new_places_at_start(
    settings: Settings,
):
    async with running_intake(sized(settings, 1)) as intake:
        _first, second, third, fourth = [await register(intake, n) for n in range(1, 5)]
    async with running_intake(sized(settings, 3)) as intake:
        admitted = [d["company_id"] for _, d in await intake.events("company-admitted")]
        statuses = [(await intake.call("GET", f"/companies/{c['id']}")).json()["cohort_status"]
                    for c in (second, third, fourth)]
        second_trail = await trail(intake, second["id"])

    assert admitted == [second["id"], third["id"]]
    assert statuses == ["admitted", "admitted", "waitlisted"]
    assert second_trail[-1] == (
        "admitted-from-waitlist", "system",
        {"pool": "drenthe", "waitlist_position": 1, "place_freed_by": None},
    )
    # Started again with the same sizes, it finds no free place: nobody is admitted twice.
    async with running_intake(sized(settings, 3)) as intake:
        assert len(await intake.events("company-admitted")) == 2


async def test_concurrent_withdrawals_give_every_freed_place_to_the_next_waitlisted_in_order(
    settings: Settings,
):
    async with running_intake(sized(settings, 3)) as intake:
        companies = [await register(intake, n) for n in range(1, 10)]
        admitted_ones, waiting = companies[:3], companies[3:]
        # Three with a place leave at once, and so do two on the waitlist, the first of them too.
        leaving = [*admitted_ones, waiting[0], waiting[2]]

        responses = await asyncio.gather(
            *(intake.call("POST", f"/companies/{c['id']}/withdrawal", {"reason": "busy"}) for c in leaving)
        )

        assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
        async with intake.ctx.db.reading() as session:
            holders = (await session.execute(
                select(Company.id).where(col(Company.holds_place).is_(True))
            )).scalars().all()
        stayed = [c["id"] for c in waiting if c not in leaving]
        assert sorted(holders) == sorted(stayed[:3])
        status_of_last = (await intake.call("GET", f"/companies/{stayed[3]}")).json()["cohort_status"]
        assert status_of_last == "waitlisted"
        # Admitted one at a time, in the order they waited (one that withdrew after its admission
        # freed its place again for the next).
        position = {c["id"]: c["waitlist_position"] for c in waiting}
        order = [position[d["company_id"]] for _, d in await intake.events("company-admitted")]
        assert order == sorted(order)


async def _backend(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT pg_backend_pid()")))


async def test_an_admission_waits_for_locked_waitlisted_companies_and_keeps_their_order(
    settings: Settings,
):
    """PostgreSQL: while a place is freed, the first waitlisted company's row is held by its own
    withdrawal, and the second's by staff editing its details. The admission waits for both: the
    one that withdrew is passed over, the one being edited keeps its turn (a query that skipped
    locked rows would admit the third)."""
    async with running_intake(sized(settings, 1)) as intake:
        if not intake.ctx.db.is_postgres:
            pytest.skip("concurrent row locks are PostgreSQL's; SQLite has one writer at a time")
        first, second, third, fourth = [await register(intake, n) for n in range(1, 5)]
        db = intake.ctx.db

        async def blocked_by(waiter: int, holder: int) -> bool:
            async with db.reading() as session:
                blockers = await session.scalar(text("SELECT pg_blocking_pids(:pid)"), {"pid": waiter})
            return holder in (blockers or [])

        async with db.sessions() as withdrawing, db.sessions() as editing:
            row = await withdrawing.get(Company, second["id"], with_for_update=True)
            assert row is not None
            row.exit_status = "withdrawn"
            row = await editing.get(Company, third["id"], with_for_update=True)
            assert row is not None
            row.legal_name = "Company 3 Holding"
            await withdrawing.flush()
            await editing.flush()
            holders = [await _backend(withdrawing), await _backend(editing)]
            started: asyncio.Future[int] = asyncio.get_running_loop().create_future()

            async def first_leaves() -> Company | None:
                async with db.transaction() as session:
                    started.set_result(await _backend(session))
                    leaving = await session.get(Company, first["id"], with_for_update=True)
                    assert leaving is not None
                    return await places.leave(
                        session, leaving, "withdrawn", reason="closing down", actor="tester",
                        clock=intake.ctx.clock, outbox=intake.ctx.outbox,
                        pool_sizes=intake.ctx.settings.intake_pool_sizes,
                    )

            admission = asyncio.create_task(first_leaves())
            waiter = await started
            for session, holder in zip((withdrawing, editing), holders, strict=True):
                await eventually(lambda h=holder: blocked_by(waiter, h),  # type: ignore[misc]
                                 message="the admission waiting for a row lock")
                await session.commit()
            admitted = await admission

        assert admitted is not None and admitted.id == third["id"]
        assert [d["company_id"] for _, d in await intake.events("company-admitted")] == [third["id"]]
        last = (await intake.call("GET", f"/companies/{fourth['id']}")).json()
        assert last["cohort_status"] == "waitlisted"
