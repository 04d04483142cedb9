"""The stage rules without Temporal: which fact applies in which stage, which waits for its
prerequisite, which can never apply; and which staff actions are refused, with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.journeys import assessed, cancelled, completed, interviewed, plan, scheduled
from workflows.models import Fact, JourneyState, PlannedItem
from workflows.stages import all_items_ended, disposition, next_stage_after_item, refusal

COMPANY = "c1"


def state(stage: str | None, **fields: object) -> JourneyState:
    return JourneyState(company_id=COMPANY, hub_id="nl-noord", stage=stage, **fields)  # type: ignore[arg-type]


def fact(name: str, data: object) -> Fact:
    return Fact(event_id="e1", name=name, data=data.model_dump(mode="json"))  # type: ignore[attr-defined]


ITEM = PlannedItem(item_id="p-training", kind="training", title="t", owner="training")


@pytest.mark.parametrize(
    ("stage", "fields", "name", "data", "verdict", "reason"),
    [
        (None, {}, "intake-scheduled", scheduled(COMPANY), "hold", "registration"),
        ("waitlisted", {}, "intake-scheduled", scheduled(COMPANY), "hold", "admission"),
        ("registered", {}, "intake-scheduled", scheduled(COMPANY), "apply", ""),
        ("intake_scheduled", {}, "intake-scheduled", scheduled(COMPANY), "apply", ""),
        ("in_services", {}, "intake-scheduled", scheduled(COMPANY), "refuse", "already completed"),
        ("registered", {}, "intake-completed", interviewed(COMPANY), "hold", "scheduled"),
        ("intake_scheduled", {}, "intake-completed", interviewed(COMPANY), "apply", ""),
        ("registered", {}, "assessment-completed", assessed(COMPANY, "T0"), "apply", ""),
        ("intake_scheduled", {"t0_assessment_id": "a"}, "assessment-completed", assessed(COMPANY, "T0"),
         "refuse", "already recorded"),
        ("intake_scheduled", {}, "plan-agreed", plan(COMPANY), "hold", "intake and the T0"),
        ("intake_completed", {}, "plan-agreed", plan(COMPANY), "apply", ""),
        ("in_services", {}, "plan-agreed", plan(COMPANY), "refuse", "already agreed"),
        ("in_services", {}, "assessment-completed", assessed(COMPANY, "T1"), "hold", "follow-up"),
        ("follow_up_due", {}, "assessment-completed", assessed(COMPANY, "T1"), "apply", ""),
        ("withdrawn", {}, "assessment-completed", assessed(COMPANY, "T1"), "refuse", "ended (withdrawn)"),
        ("intake_completed", {}, "service-completed", completed(COMPANY, "training"), "hold", "plan"),
        ("in_services", {"plan_id": "p", "items": [ITEM]}, "service-completed",
         completed(COMPANY, "training"), "apply", ""),
        ("in_services", {"plan_id": "p", "items": [ITEM]}, "service-cancelled",
         cancelled(COMPANY, "financing"), "refuse", "no item p-financing"),
        ("in_services", {"plan_id": "p", "items": [ITEM.model_copy(update={"status": "completed"})]},
         "service-cancelled", cancelled(COMPANY, "training"), "refuse", "already ended"),
    ],
)
def test_a_fact_applies_waits_or_is_refused_by_stage(stage, fields, name, data, verdict, reason):
    got, why = disposition(state(stage, **fields), fact(name, data))
    assert got == verdict
    assert reason in why


def test_an_unknown_fact_is_refused_with_the_reason():
    assert disposition(state("registered"), Fact(event_id="e", name="course-rated", data={})) == (
        "refuse", "the journey has no rule for course-rated"
    )


def test_follow_up_is_due_only_when_every_item_has_ended():
    open_ = ITEM
    done = ITEM.model_copy(update={"item_id": "p2", "status": "completed", "value_eur": Decimal(1)})
    assert next_stage_after_item(state("in_services", items=[open_, done])) is None
    assert next_stage_after_item(state("in_services", items=[done])) == "follow_up_due"
    assert not all_items_ended(state("in_services"))


@pytest.mark.parametrize(
    ("stage", "action", "details", "reason"),
    [
        (None, "pause", {}, "not started"),
        ("closed", "pause", {}, "has ended (closed)"),
        ("registered", "resume", {}, "not paused"),
        ("registered", "move", {"stage": "registered"}, "already registered"),
        ("registered", "cancel-item", {"item_id": "x"}, "no item x"),
        ("in_services", "record-item", {"item_id": "p-training"}, "recorded by training"),
    ],
)
def test_a_staff_action_is_refused_with_the_reason(stage, action, details, reason):
    why = refusal(state(stage, items=[ITEM]), action, **details)
    assert why is not None and reason in why


def test_staff_can_reopen_an_ended_journey_by_moving_it():
    assert refusal(state("withdrawn"), "move", stage="registered") is None
