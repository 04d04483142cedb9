"""The stage rules of a journey (DOMAIN.md's stages table), pure: no Temporal, no I/O.

`disposition` says what to do with a fact in the journey's present state: apply it, hold it until
its prerequisite arrives, or refuse it for good (recorded with the reason, nothing changed).
`refusal` says why a staff action cannot be done now, or None when it can.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from shared.contracts.intake import AssessmentCompleted
from shared.contracts.journey import JOURNEY_FACTS, Stage
from shared.contracts.services import ServiceCancelled, ServiceCompleted
from workflows.models import Fact, JourneyState

# Stages a journey ends in; it stays open a while after to record late facts.
ENDED: frozenset[Stage] = frozenset({Stage.CLOSED, Stage.WITHDRAWN, Stage.NOT_ELIGIBLE, Stage.REFERRED_OUT})
# Stages before the plan, in which the intake and the T0 assessment are still coming.
BEFORE_PLAN: frozenset[Stage] = frozenset({Stage.REGISTERED, Stage.WAITLISTED, Stage.INTAKE_SCHEDULED})
# The owning service of each kind of planned service; None: staff record it in the journey.
OWNERS: dict[str, str | None] = {
    "training": "training",
    "financing": "financing",
    "networking": "network",
    "test_before_invest": None,
}

Verdict = Literal["apply", "hold", "refuse"]


def parse(fact: Fact) -> BaseModel:
    return JOURNEY_FACTS[fact.name].model_validate(fact.data)


def disposition(state: JourneyState, fact: Fact) -> tuple[Verdict, str]:
    """Apply, hold (with what it waits for) or refuse (with why) `fact` in `state`."""
    stage, name = state.stage, fact.name
    if name not in JOURNEY_FACTS:
        return "refuse", f"the journey has no rule for {name}"
    if name == "notification-sent":
        return "apply", ""
    if name == "company-registered":
        return ("apply", "") if stage is None else ("refuse", "the company is already registered")
    if stage is None:
        return "hold", "waits for the company's registration"
    if stage in ENDED:
        return "refuse", f"the journey has ended ({stage})"
    data = parse(fact)
    if name in ("company-withdrawn", "company-not-eligible"):
        return "apply", ""
    if name == "company-admitted":
        return ("apply", "") if stage == Stage.WAITLISTED else ("refuse", "the company is not waitlisted")
    if name == "intake-scheduled":
        if stage == Stage.WAITLISTED:
            return "hold", "waits for the company's admission"
        return ("apply", "") if stage in BEFORE_PLAN else ("refuse", "the intake is already completed")
    if name == "intake-completed":
        if state.intake_completed or stage not in BEFORE_PLAN:
            return "refuse", "the intake is already completed"
        if stage != Stage.INTAKE_SCHEDULED:
            return "hold", "waits for the intake to be scheduled"
        return "apply", ""
    if isinstance(data, AssessmentCompleted):
        return _assessment(state, data)
    if name == "plan-agreed":
        if stage in BEFORE_PLAN:
            return "hold", "waits for the intake and the T0 assessment"
        return ("apply", "") if stage == Stage.INTAKE_COMPLETED else ("refuse", "a plan is already agreed")
    if isinstance(data, ServiceCompleted | ServiceCancelled):
        return _service_end(state, data.plan_item_id)
    return "refuse", f"the journey has no rule for {name}"


def _assessment(state: JourneyState, data: AssessmentCompleted) -> tuple[Verdict, str]:
    stage = state.stage
    if data.stage == "T0":
        if state.t0_assessment_id is not None:
            return "refuse", "a T0 assessment is already recorded"
        return ("apply", "") if stage in BEFORE_PLAN else ("refuse", "the plan is already agreed")
    if state.t1_assessment_id is not None:
        return "refuse", "a T1 assessment is already recorded"
    return ("apply", "") if stage == Stage.FOLLOW_UP_DUE else ("hold", "waits for the follow-up to be due")


def _service_end(state: JourneyState, item_id: str) -> tuple[Verdict, str]:
    item = next((i for i in state.items if i.item_id == item_id), None)
    if item is None:
        if state.plan_id is None:
            return "hold", "waits for the plan that names this item"
        return "refuse", f"the plan has no item {item_id}"
    if item.status != "open":
        return "refuse", f"item {item_id} has already ended ({item.status})"
    return "apply", ""


def all_items_ended(state: JourneyState) -> bool:
    return bool(state.items) and all(i.status != "open" for i in state.items)


def refusal(state: JourneyState, action: str, **details: object) -> str | None:
    """Why staff cannot do `action` now (None: they can). Details name the item or the stage."""
    stage = state.stage
    if stage is None:
        return "the journey has not started yet"
    if action == "move":
        target = details["stage"]
        if target == stage:
            return f"the journey is already {stage}"
        if target in (Stage.PLAN_AGREED, Stage.IN_SERVICES) and state.plan_id is None:
            return f"no plan has been agreed yet, so there are no services for {target} (intake agrees plans)"
        return None
    if stage in ENDED:
        return f"the journey has ended ({stage})"
    if action == "pause":
        return "the journey is already paused" if state.paused_remaining is not None else None
    if action == "resume":
        return "the journey is not paused" if state.paused_remaining is None else None
    if action == "reassign":
        return "that advisor is already assigned" if details["advisor_id"] == state.advisor_id else None
    if action in ("cancel-item", "record-item"):
        item_id = details["item_id"]
        item = next((i for i in state.items if i.item_id == item_id), None)
        if item is None:
            return f"the plan has no item {item_id}"
        if item.status != "open":
            return f"item {item_id} has already ended ({item.status})"
        if action == "record-item" and item.owner is not None:
            return f"item {item_id} is recorded by {item.owner}, not by staff"
        if details.get("outcome") == "completed" and details.get("value_eur") is None:
            return "a completed item needs its value in euro"
    return None


def next_stage_after_item(state: JourneyState) -> Stage | None:
    """in_services -> follow_up_due once every planned item has ended."""
    if state.stage == Stage.IN_SERVICES and all_items_ended(state):
        return Stage.FOLLOW_UP_DUE
    return None
