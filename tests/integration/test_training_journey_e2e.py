"""A plan with one training item, end to end on the real Tansu broker and the real Temporal dev
server: the journey service and the training service run in-process side by side; intake's facts
bring the journey to its plan, the journey asks training for the item, staff link it to a course
and enrol a participant, and the recorded attendance delivers it: the journey reaches
`follow_up_due` with the item completed at the value training computed."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from shared.contracts import build_event
from shared.contracts.base import EventData
from shared.contracts.intake import PlanAgreed, PlanItem
from tests.integration import test_journey_bridge as bridge
from tests.support import journeys as facts
from tests.support.training import at, course, participant, running_training, session_at
from tests.support.waiting import eventually

journey, journey_overrides = bridge.journey, bridge.journey_overrides
pytestmark = pytest.mark.timeout(240)


async def test_a_plan_with_a_training_item_reaches_follow_up_due_after_attendance(journey: bridge.Journey):
    company = str(uuid.uuid4())
    item = PlanItem(item_id=f"training-{company}", kind="training", title="Cobots for the welding line")

    async def intake_says(name: str, data: EventData) -> None:
        event = build_event(name, data, sender="intake", at=bridge.NOW)[1]
        await journey.publish("edih.intake.events", event.to_bytes(), key=company)

    async with running_training(journey.settings) as training:
        await intake_says("company-registered", facts.registered(company))
        await intake_says("intake-scheduled", facts.scheduled(company))
        await intake_says("intake-completed", facts.interviewed(company))
        await intake_says("assessment-completed", facts.assessed(company))
        await intake_says("plan-agreed", PlanAgreed(
            hub_id="nl-noord", company_id=company, plan_id=f"plan-{company}", items=[item],
            agreed_by=facts.ADVISOR, agreed_at=bridge.NOW))

        async def need_opened() -> dict | None:
            response = await training.call("GET", f"/needs/{item.item_id}")
            return response.json() if response.status_code == 200 else None

        need = await eventually(need_opened, message="the journey's service-requested reached training")
        assert (need["company_id"], need["status"]) == (company, "open")
        in_services = await journey.view(company)
        assert in_services is not None and in_services["stage"] == "in_services"

        course_id = (await training.ok("POST", "/courses", course(cost_per_participant_eur="275.00")))["id"]
        session = await training.ok("POST", f"/courses/{course_id}/sessions",
                                    session_at("2026-03-12T10:00:00", "2026-03-12T14:00:00"))
        await training.ok("POST", f"/needs/{item.item_id}/course", {"course_id": course_id})
        enrolment = await training.ok("POST", f"/sessions/{session['id']}/enrolments", participant(company))
        training.clock.moment = at("2026-03-12T13:00:00+00:00")
        await training.ok("POST", f"/sessions/{session['id']}/attendance",
                          {"participants": [{"enrolment_id": enrolment["id"], "attendance": "attended"}]})

        async def follow_up_due() -> dict | None:
            view = await journey.view(company)
            return view if view and view["stage"] == "follow_up_due" else None

        view = await eventually(follow_up_due, message="the journey reached follow_up_due", timeout=60)

    (planned,) = view["items"]
    assert (planned["item_id"], planned["status"]) == (item.item_id, "completed")
    assert Decimal(str(planned["value_eur"])) == Decimal("275.00")
