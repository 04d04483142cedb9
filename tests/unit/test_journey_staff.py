"""Staff actions on a journey (Temporal updates with validators), on the time-skipping server: pause
stops the reminders and resume runs them with the time they had left; a refused action says why and
changes nothing; every action is logged with who and why."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.support.journeys import (
    DAY,
    MINUTE,
    Journeys,
    logged,
    minute,
    plan,
    registered,
    scheduled,
)
from workflows.journey import CompanyJourney
from workflows.models import ItemAction, ItemOutcome, Reassignment, StaffAction, StageMove


async def refused(journeys: Journeys, company: str, update: object, request: object) -> str:
    """The reason a staff action was refused; asserts the journey did not change."""
    before = await journeys.state(company)
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await journeys.handle(company).execute_update(update, request)  # type: ignore[call-overload]
    after = await journeys.state(company)
    assert after == before
    return str(failure.value.cause)


async def test_pause_stops_the_reminders_and_resume_runs_them_with_the_time_left(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    admitted_at = (await journeys.state(company)).history[0].at
    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.sleep(company, 3 * DAY)

    view = await journeys.handle(company).execute_update(
        CompanyJourney.pause, StaffAction(actor="staff-3", reason="company on summer holiday")
    )
    assert view.paused
    assert view.next_timer is None
    paused_at = view.log[-1].at
    view = await journeys.sleep(company, 30 * DAY)
    assert [m[0] for m in await journeys.messages(company)] == ["welcome", "questionnaire-invitation"]
    assert logged(view, "requested staff-alert") == []

    view = await journeys.handle(company).execute_update(
        CompanyJourney.resume, StaffAction(actor="staff-4", reason="company is back")
    )
    resumed_at = view.log[-1].at
    assert not view.paused
    # The first reminder had 7 days to run when admitted; 3 had passed at the pause.
    assert view.next_timer is not None
    assert view.next_timer.name == "questionnaire-reminder-1"
    assert view.next_timer.due_at == resumed_at + (admitted_at + 7 * DAY - paused_at)
    view = await journeys.sleep(company, view.next_timer.due_at - await journeys.now() - MINUTE)
    assert logged(view, "requested questionnaire-reminder") == []
    view = await journeys.sleep(company, 2 * MINUTE)
    assert logged(view, "requested questionnaire-reminder") == [minute(resumed_at + 4 * DAY)]
    assert [(e.actor, e.action, e.reason) for e in view.log if e.actor != "system"] == [
        ("staff-3", "paused", "company on summer holiday"),
        ("staff-4", "resumed", "company is back"),
    ]


async def test_refused_actions_say_why_and_change_nothing(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))

    assert "not paused" in await refused(journeys, company, CompanyJourney.resume,
                                         StaffAction(actor="staff-3", reason="back"))
    assert "needs a reason" in await refused(journeys, company, CompanyJourney.move_to_stage,
                                             StageMove(actor="staff-3", reason=" ", stage="closed"))
    assert "already registered" in await refused(
        journeys, company, CompanyJourney.move_to_stage,
        StageMove(actor="staff-3", reason="why not", stage="registered"),
    )
    assert "already assigned" in await refused(
        journeys, company, CompanyJourney.reassign_advisor,
        Reassignment(actor="staff-3", reason="same", advisor_id="5"),
    )
    assert "no item p-x" in await refused(journeys, company, CompanyJourney.cancel_item,
                                          ItemAction(actor="staff-3", reason="gone", item_id="p-x"))
    await journeys.handle(company).execute_update(
        CompanyJourney.pause, StaffAction(actor="staff-3", reason="holiday")
    )
    assert "already paused" in await refused(journeys, company, CompanyJourney.pause,
                                             StaffAction(actor="staff-3", reason="holiday"))


async def test_items_are_cancelled_and_recorded_by_staff_and_the_last_end_makes_follow_up_due(journeys):
    from tests.unit.test_journey_exits import to_in_services

    company = str(uuid.uuid4())
    await to_in_services(journeys, company, plan(company, "training", "test_before_invest"))
    assert "recorded by training" in await refused(
        journeys, company, CompanyJourney.record_item,
        ItemOutcome(actor="staff-3", reason="done", item_id="p-training", outcome="completed",
                    value_eur=Decimal(10)),
    )
    assert "needs its value" in await refused(
        journeys, company, CompanyJourney.record_item,
        ItemOutcome(actor="staff-3", reason="done", item_id="p-test_before_invest", outcome="completed"),
    )

    view = await journeys.handle(company).execute_update(
        CompanyJourney.cancel_item, ItemAction(actor="staff-3", reason="course full", item_id="p-training")
    )
    assert view.stage == "in_services"
    view = await journeys.handle(company).execute_update(
        CompanyJourney.record_item,
        ItemOutcome(actor="staff-4", reason="not needed after all", item_id="p-test_before_invest",
                    outcome="cancelled"),
    )
    assert view.stage == "follow_up_due"
    assert [(i.item_id, i.status, i.end_reason) for i in view.items] == [
        ("p-training", "cancelled", "course full"),
        ("p-test_before_invest", "cancelled", "not needed after all"),
    ]
    # The staff member whose action ended the last item moved the journey on.
    assert [(c.to_stage, c.actor, c.reason) for c in view.history][-1] == (
        "follow_up_due", "staff-4", "every planned service has ended"
    )
    view = await journeys.handle(company).execute_update(
        CompanyJourney.reassign_advisor, Reassignment(actor="staff-1", reason="leave", advisor_id="23")
    )
    assert view.advisor_id == "23"
    assert [(e.actor, e.action) for e in view.log if e.actor != "system"] == [
        ("staff-3", "cancelled item p-training"),
        ("staff-4", "cancelled item p-test_before_invest"),
        ("staff-1", "advisor 17 -> 23"),
    ]
