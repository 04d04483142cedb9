"""Each way a journey ends, on the time-skipping server: withdrawn and not eligible by intake's facts,
referred out and closed by staff, closed without follow-up when the T1 window passes (flagged).
An ended journey refuses later facts with the reason and completes after a while."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.contracts import build_event
from shared.contracts.intake import CompanyNotEligible, CompanyWithdrawn, PlanAgreed
from shared.inbox import PermanentError
from tests.support.journeys import (
    AT,
    DAY,
    Journeys,
    assessed,
    completed,
    interviewed,
    plan,
    registered,
    scheduled,
)
from workflows.journey import CompanyJourney
from workflows.models import StaffAction, StageMove


async def to_in_services(journeys: Journeys, company: str, agreed: PlanAgreed | None = None) -> None:
    await journeys.publish("company-registered", registered(company))
    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    await journeys.publish("intake-completed", interviewed(company))
    await journeys.publish("plan-agreed", agreed or plan(company, "training"))
    assert (await journeys.state(company)).stage == "in_services"


async def withdrawn_by_intake(journeys: Journeys, company: str) -> None:
    await journeys.publish("company-withdrawn", CompanyWithdrawn(
        hub_id="nl-noord", company_id=company, reason="no time", actor="staff-9"))


async def not_eligible_by_intake(journeys: Journeys, company: str) -> None:
    await journeys.publish("company-not-eligible", CompanyNotEligible(
        hub_id="nl-noord", company_id=company, reason="not an SME", actor="staff-9"))


async def referred_by_staff(journeys: Journeys, company: str) -> None:
    await journeys.handle(company).execute_update(
        CompanyJourney.move_to_stage, StageMove(actor="staff-9", reason="to EDIH Oost", stage="referred_out")
    )


async def closed_by_staff(journeys: Journeys, company: str) -> None:
    await journeys.handle(company).execute_update(
        CompanyJourney.close, StaffAction(actor="staff-9", reason="company sold")
    )


@pytest.mark.parametrize(
    ("exit_", "stage", "reason"),
    [
        (withdrawn_by_intake, "withdrawn", "no time"),
        (not_eligible_by_intake, "not_eligible", "not an SME"),
        (referred_by_staff, "referred_out", "to EDIH Oost"),
        (closed_by_staff, "closed", "company sold"),
    ],
)
async def test_an_exit_ends_the_journey_refuses_later_facts_and_completes(
    journeys: Journeys, exit_: Any, stage: str, reason: str
):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    await journeys.publish("intake-scheduled", scheduled(company))
    await exit_(journeys, company)

    view = await journeys.state(company)
    assert view.stage == stage
    assert [(c.to_stage, c.actor, c.reason) for c in view.history][-1] == (stage, "staff-9", reason)
    assert (await journeys.stages(company))[-1] == stage
    assert view.next_timer is not None and view.next_timer.name == "end"
    # A T1 for an ended journey can never apply: recorded with the reason, nothing changed.
    await journeys.publish("assessment-completed", assessed(company, "T1"))
    view = await journeys.state(company)
    assert view.stage == stage
    assert (view.log[-1].action, view.log[-1].reason) == (
        "refused assessment-completed", f"the journey has ended ({stage})"
    )
    # No reminder goes out after the end.
    await journeys.env.sleep(journeys.ctx.settings.journey_keep_after_end + DAY)
    await journeys.handle(company).result()
    assert [m[0] for m in await journeys.messages(company)] == ["welcome", "questionnaire-invitation"]
    # Once completed, a late fact or a repeated registration is a dead letter, not a new journey.
    late = build_event("intake-scheduled", scheduled(company), sender="intake", at=AT)[1]
    with pytest.raises(PermanentError, match="no running journey"):
        await journeys.bridge.signal(late, scheduled(company))
    again = build_event("company-registered", registered(company), sender="intake", at=AT)[1]
    with pytest.raises(PermanentError, match="has ended"):
        await journeys.bridge.company_registered(again, registered(company))


async def test_without_a_t1_in_the_window_the_journey_closes_without_follow_up_flagged(journeys):
    company = str(uuid.uuid4())
    await to_in_services(journeys, company)
    await journeys.publish("service-completed", completed(company, "training"), sender="training")
    settings = journeys.ctx.settings
    window_ends = settings.journey_follow_up_after + settings.journey_follow_up_window
    view = await journeys.sleep(company, window_ends - DAY)
    assert view.stage == "follow_up_due"
    view = await journeys.sleep(company, 2 * DAY)

    assert view.stage == "closed"
    assert view.closed_without_follow_up
    assert view.overdue == ["closed without follow-up"]
    assert view.history[-1].reason.startswith("closed without follow-up")
    assert [m[0] for m in await journeys.messages(company)][-3:] == [
        "follow-up-invitation", "follow-up-reminder", "follow-up-reminder",
    ]
    # The T1 that comes too late is refused.
    await journeys.publish("assessment-completed", assessed(company, "T1"))
    assert (await journeys.state(company)).log[-1].reason == "the journey has ended (closed)"
