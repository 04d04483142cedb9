"""Staff actions follow through as facts do, on the time-skipping server: a move by hand releases
the facts it was a prerequisite of, stops the timers of the stages it leaves, takes its stage's next
step, and a reopened journey is whole again; messages sent again get ids of their own; staff
cancelling an item tells its owner; an action never overtakes a fact that came before it."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError

from shared.contracts.intake import CompanyAdmitted
from tests.support.journeys import (
    AT,
    DAY,
    MINUTE,
    Journeys,
    assessed,
    completed,
    interviewed,
    plan,
    registered,
    scheduled,
)
from tests.unit.test_journey_exits import to_in_services
from tests.unit.test_journey_staff import refused
from workflows.journey import CompanyJourney
from workflows.models import ItemAction, ItemOutcome, StaffAction, StageMove


def move(stage: str, reason: str = "decided in the team meeting") -> StageMove:
    return StageMove(actor="staff-3", reason=reason, stage=stage)  # type: ignore[arg-type]


async def notification_ids(journeys: Journeys, company: str, message_type: str) -> list[str]:
    commands = await journeys.outbox("edih.notifications.commands", company)
    return [c.data["notification_id"] for c in commands if c.data["message_type"] == message_type]


async def test_a_move_by_hand_releases_the_facts_that_waited_for_it(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company, "waitlisted"))
    await journeys.publish("intake-scheduled", scheduled(company))
    assert [h.fact.name for h in (await journeys.state(company)).held] == ["intake-scheduled"]

    view = await journeys.act(company, CompanyJourney.move_to_stage, move("registered", "place found"))

    assert view.held == []
    assert [c.to_stage for c in view.history] == ["waitlisted", "registered", "intake_scheduled"]
    assert view.advisor_id == "17"


async def test_the_last_item_recorded_by_staff_releases_a_held_t1_and_the_journey_closes(journeys):
    company = str(uuid.uuid4())
    await to_in_services(journeys, company, plan(company, "test_before_invest"))
    await journeys.publish("assessment-completed", assessed(company, "T1"))
    assert [h.fact.name for h in (await journeys.state(company)).held] == ["assessment-completed"]

    view = await journeys.act(company, CompanyJourney.record_item, ItemOutcome(
        actor="staff-3", reason="fieldlab test done", item_id="p-test_before_invest", outcome="completed",
        value_eur=Decimal("4000")))

    assert view.held == []
    assert [c.to_stage for c in view.history][-3:] == ["follow_up_due", "follow_up_completed", "closed"]


async def test_withdrawing_refuses_the_held_facts_and_says_why(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    await journeys.publish("plan-agreed", plan(company, "training"))

    view = await journeys.act(company, CompanyJourney.withdraw,
                              StaffAction(actor="staff-3", reason="company stopped"))

    assert view.stage == "withdrawn"
    assert view.held == []
    assert (view.log[-1].action, view.log[-1].reason) == (
        "refused plan-agreed", "the journey has ended (withdrawn)")


async def test_a_move_past_the_intake_stops_its_alerts_and_reminders(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    alert = (await journeys.state(company)).next_timer
    assert alert is not None and alert.name == "intake-alert"
    view = await journeys.sleep(company, alert.due_at - await journeys.now() + MINUTE)
    assert view.overdue == ["intake not scheduled"]

    view = await journeys.act(company, CompanyJourney.move_to_stage,
                              move("intake_completed", "interview held by phone"))
    assert view.overdue == []
    assert view.next_timer is None
    await journeys.sleep(company, 30 * DAY)
    assert [m[0] for m in await journeys.messages(company)] == [
        "welcome", "questionnaire-invitation", "staff-alert"]


async def test_a_stage_entered_again_sends_its_messages_again_under_new_ids(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    view = await journeys.act(company, CompanyJourney.move_to_stage, move("waitlisted", "pool was full"))
    assert view.next_timer is None  # a waitlisted company gets no reminders
    await journeys.publish("company-admitted", CompanyAdmitted(hub_id="nl-noord", company_id=company,
                                                               pool="groningen-friesland"))
    await journeys.sleep(company, 8 * DAY)

    invitations = await notification_ids(journeys, company, "questionnaire-invitation")
    assert len(invitations) == len(set(invitations)) == 2
    assert len(await notification_ids(journeys, company, "questionnaire-reminder")) == 1
    assert [m[0] for m in await journeys.messages(company)].count("welcome") == 1


async def test_a_journey_reopened_after_closing_without_follow_up_can_be_followed_up(journeys):
    company = str(uuid.uuid4())
    await to_in_services(journeys, company)
    await journeys.publish("service-completed", completed(company, "training"), sender="training")
    settings = journeys.ctx.settings
    view = await journeys.sleep(company, settings.journey_follow_up_after + settings.journey_follow_up_window
                                + DAY)
    assert (view.stage, view.closed_without_follow_up) == ("closed", True)

    view = await journeys.act(company, CompanyJourney.move_to_stage,
                              move("follow_up_due", "company asked for a second chance"))
    assert (view.stage, view.closed_without_follow_up, view.overdue) == ("follow_up_due", False, [])
    assert view.next_timer is not None and view.next_timer.name == "follow-up-invitation"
    await journeys.sleep(company, settings.journey_follow_up_after + DAY)
    invitations = await notification_ids(journeys, company, "follow-up-invitation")
    assert len(invitations) == len(set(invitations)) == 2
    await journeys.publish("assessment-completed", assessed(company, "T1"))
    view = await journeys.state(company)
    assert (view.stage, view.closed_without_follow_up) == ("closed", False)


async def test_a_move_takes_its_stages_next_step_or_is_refused_when_it_cannot(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    assert "no plan has been agreed" in await refused(journeys, company, CompanyJourney.move_to_stage,
                                                      move("in_services"))

    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.publish("intake-completed", interviewed(company))
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    await journeys.publish("plan-agreed", plan(company, "training"))
    await journeys.act(company, CompanyJourney.cancel_item,
                       ItemAction(actor="staff-3", reason="course full", item_id="p-training"))
    # Back into services with every item ended: the follow-up is due at once.
    view = await journeys.act(company, CompanyJourney.move_to_stage, move("in_services", "one more try"))
    assert [c.to_stage for c in view.history][-2:] == ["in_services", "follow_up_due"]
    # A follow-up completed by hand closes the journey, as a T1 does.
    view = await journeys.act(company, CompanyJourney.move_to_stage,
                              move("follow_up_completed", "T1 filled in on paper"))
    assert [(c.to_stage, c.actor) for c in view.history][-2:] == [
        ("follow_up_completed", "staff-3"), ("closed", "staff-3")]


async def test_staff_cancelling_an_item_a_service_delivers_tell_that_service(journeys):
    company = str(uuid.uuid4())
    await to_in_services(journeys, company, plan(company, "training", "financing"))

    await journeys.act(company, CompanyJourney.cancel_item,
                       ItemAction(actor="staff-3", reason="found its own course", item_id="p-training"))

    training = [e.type.split(".")[3] for e in await journeys.outbox("edih.training.commands", company)]
    assert training == ["service-requested", "service-cancellation-requested"]
    cancellation = (await journeys.outbox("edih.training.commands", company))[1]
    assert cancellation.data["plan_item_id"] == "p-training"
    assert (cancellation.data["reason"], cancellation.data["actor"]) == ("found its own course", "staff-3")
    financing = [e.type.split(".")[3] for e in await journeys.outbox("edih.financing.commands", company)]
    assert financing == ["service-requested"]


async def test_a_staff_action_never_overtakes_a_fact_that_came_before_it(journeys):
    company = str(uuid.uuid4())
    await to_in_services(journeys, company, plan(company, "training", "financing"))
    done = completed(company, "training")
    from shared.contracts import build_event

    event = build_event("service-completed", done, sender="training", at=AT, service="training")[1]
    await journeys.bridge.handlers()[type(done)](None, event, done)  # not waited for
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await journeys.act(company, CompanyJourney.cancel_item,
                           ItemAction(actor="staff-3", reason="not needed", item_id="p-training"))
    assert "item p-training has already ended (completed)" in str(failure.value.cause)
    view = await journeys.settled(company)
    assert {i.item_id: i.status for i in view.items}["p-training"] == "completed"


@pytest.mark.parametrize("stage", ["waitlisted", "in_services", "follow_up_due", "paused"])
async def test_staff_withdraw_a_company_from_any_open_stage(journeys, stage):
    company = str(uuid.uuid4())
    if stage == "waitlisted":
        await journeys.publish("company-registered", registered(company, "waitlisted"))
    else:
        await to_in_services(journeys, company, plan(company, "training"))
    if stage == "follow_up_due":
        await journeys.publish("service-completed", completed(company, "training"), sender="training")
    if stage == "paused":
        await journeys.act(company, CompanyJourney.pause, StaffAction(actor="staff-3", reason="holiday"))

    view = await journeys.act(company, CompanyJourney.withdraw,
                              StaffAction(actor="staff-9", reason="no time"))

    assert (view.stage, view.paused) == ("withdrawn", False)
    assert [(c.to_stage, c.actor, c.reason) for c in view.history][-1] == ("withdrawn", "staff-9", "no time")
    assert view.next_timer is not None and view.next_timer.name == "end"
    assert view.log[-1].actor == "staff-9"


async def test_a_paused_journey_shows_what_each_timer_has_left(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    await journeys.sleep(company, 2 * DAY)
    view = await journeys.act(company, CompanyJourney.pause, StaffAction(actor="staff-3", reason="holiday"))
    admitted_at, paused_at = view.history[0].at, view.log[-1].at
    left = {t.name: t.remaining for t in view.paused_timers}
    assert left["questionnaire-reminder-1"] == admitted_at + 7 * DAY - paused_at
    assert left["questionnaire-escalation"] == admitted_at + 21 * DAY - paused_at
    assert view.paused_timers[0].name == "intake-alert"  # the first to fire comes first
