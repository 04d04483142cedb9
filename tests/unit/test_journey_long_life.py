"""A journey outlives its history: with a small history threshold it continues as new, carrying its
state (stages, applied fact ids, held facts, timers) over, so a repeat is still ignored and the
reminders still come at their moment."""

from __future__ import annotations

import uuid

import pytest

from shared.contracts import CloudEvent, build_event
from shared.contracts.base import EventData
from shared.contracts.notifications import NotificationSent
from tests.support.journeys import (
    AT,
    DAY,
    MINUTE,
    Journeys,
    interviewed,
    logged,
    minute,
    plan,
    registered,
    scheduled,
)
from tests.support.waiting import eventually
from workflows.journey import CompanyJourney
from workflows.models import StaffAction


async def signal(journeys: Journeys, name: str, data: EventData, sender: str = "intake") -> CloudEvent:
    """Hand a fact to the bridge without querying the journey: the test server leaves a query sent
    to a run that is continuing as new unanswered, and then stops skipping time."""
    event = build_event(name, data, sender=sender, at=AT)[1]
    await journeys.bridge.handlers()[type(data)](None, event, data)
    return event


@pytest.mark.parametrize("settings_overrides", [{"journey_history_threshold": 25}])
async def test_a_journey_continues_as_new_with_its_state(journeys):
    company = str(uuid.uuid4())
    registration = await signal(journeys, "company-registered", registered(company))
    await signal(journeys, "intake-scheduled", scheduled(company))
    await signal(journeys, "plan-agreed", plan(company, "training"))

    async def continued() -> bool:
        description = await journeys.handle(company).describe()
        info = description.raw_description.workflow_execution_info
        return description.run_id != info.first_run_id and description.history_length > 3

    await eventually(continued, message="continued as new")
    before = await journeys.settled(company, taken=3)

    # The registration again, after the continue-as-new: still a repeat.
    await journeys.bridge.signal(registration, registered(company))
    view = await journeys.settled(company)
    assert view.applied_facts == before.applied_facts == 3
    assert [c.to_stage for c in view.history] == ["registered", "intake_scheduled"]
    assert [h.fact.name for h in view.held] == ["plan-agreed"]
    assert await journeys.stages(company) == ["registered", "intake_scheduled"]
    assert [m[0] for m in await journeys.messages(company)] == ["welcome", "questionnaire-invitation"]

    # The timers came along: the first questionnaire reminder still comes 7 days after admission.
    admitted_at = view.history[0].at
    view = await journeys.sleep(company, admitted_at + 7 * DAY + MINUTE - await journeys.now())
    assert logged(view, "requested questionnaire-reminder") == [minute(admitted_at + 7 * DAY)]
    assert view.stage == "intake_scheduled"


# The burst makes the first run continue as new; the second stays below the threshold, because the
# time-skipping server stops skipping time when a run continues as new during a sleep.
@pytest.mark.parametrize("settings_overrides", [{"journey_history_threshold": 40}])
async def test_a_paused_journey_continues_as_new_paused_and_takes_the_facts_that_come_meanwhile(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    view = await journeys.act(company, CompanyJourney.pause, StaffAction(actor="staff-3", reason="holiday"))
    paused_at, admitted_at = view.log[-1].at, view.history[0].at

    # A burst of facts, sent without waiting: some arrive while the run continues as new.
    for n in range(8):
        await signal(journeys, "notification-sent", NotificationSent(
            hub_id="nl-noord", company_id=company, notification_id=f"n-{n}", message_type="welcome",
            channel="email", sent_at=AT), sender="notifications")
    await signal(journeys, "intake-scheduled", scheduled(company))
    await signal(journeys, "intake-completed", interviewed(company))

    async def continued() -> bool:
        description = await journeys.handle(company).describe()
        return description.run_id != description.raw_description.workflow_execution_info.first_run_id

    await eventually(continued, message="continued as new")
    view = await journeys.settled(company, taken=11)
    assert view.applied_facts == 11
    assert (view.stage, view.held, view.paused) == ("intake_scheduled", [], True)
    left = {t.name: t.remaining for t in view.paused_timers}
    assert left["questionnaire-reminder-1"] == admitted_at + 7 * DAY - paused_at

    view = await journeys.act(company, CompanyJourney.resume, StaffAction(actor="staff-3", reason="back"))
    resumed_at = view.log[-1].at
    view = await journeys.sleep(company, left["questionnaire-reminder-1"] + MINUTE)
    assert logged(view, "requested questionnaire-reminder") == [
        minute(resumed_at + left["questionnaire-reminder-1"])]
