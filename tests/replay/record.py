"""Record the journey histories the replay test replays: `python -m tests.replay.record`.

Runs, on the time-skipping server with the real activities: a finished journey (admission to
closed, nine months, workflow completed); a running one (held plan, paused, services open); one
driven by staff (moves that release held facts, a reassignment, a cancelled item its owner is told
of, a refused fact, closed without follow-up, reopened, an invitation without its link while intake
is down, closed by staff, workflow completed); and the second run of a paused journey that continued
as new while facts came in. Writes their histories as JSON beside this file, named after `VERSION`.
Record a new version after a change to the workflow, and keep the older files: the point is that
they were made by older code. `journey-v1-registered.json` was recorded from the first version of
the workflow (registration and welcome only).
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from temporalio.client import WorkflowHistory

from shared.contracts import build_event
from shared.contracts.intake import CompanyAdmitted
from shared.contracts.notifications import NotificationSent
from tests.support.journeys import (
    AT,
    DAY,
    Journeys,
    assessed,
    cancelled,
    completed,
    interviewed,
    journey_settings,
    plan,
    registered,
    running_journeys,
    scheduled,
)
from workflows import workflow_id
from workflows.journey import CompanyJourney
from workflows.models import ItemAction, ItemOutcome, Reassignment, StaffAction, StageMove

HERE = Path(__file__).parent
# The version the recorded files are named after: v2 was the orchestration, v3 added the
# questionnaire links (patch `questionnaire-links`), v4 staff actions that follow through (patch
# `staff-follow-through`).
VERSION = "v4"
FINISHED = "00000000-0000-4000-8000-00000000f001"
RUNNING = "00000000-0000-4000-8000-00000000f002"
STAFF = "00000000-0000-4000-8000-00000000f003"
CONTINUED = "00000000-0000-4000-8000-00000000f004"


async def finished(journeys: Journeys) -> None:
    company = FINISHED
    await journeys.publish("company-registered", registered(company))
    await journeys.sleep(company, 8 * DAY)
    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.publish("plan-agreed", plan(company, "training", "test_before_invest"))
    await journeys.publish("intake-completed", interviewed(company))
    await journeys.sleep(company, 15 * DAY)
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    await journeys.publish("service-completed", completed(company, "training"), sender="training")
    await journeys.handle(company).execute_update(CompanyJourney.record_item, ItemOutcome(
        actor="staff-3", reason="fieldlab test done", item_id="p-test_before_invest", outcome="completed",
        value_eur=Decimal("4000")))
    await journeys.sleep(company, journeys.ctx.settings.journey_follow_up_after + 10 * DAY)
    await journeys.publish("assessment-completed", assessed(company, "T1"))
    await journeys.env.sleep(journeys.ctx.settings.journey_keep_after_end + DAY)
    await journeys.handle(company).result()


async def running(journeys: Journeys) -> None:
    company = RUNNING
    await journeys.publish("company-registered", registered(company, "waitlisted"))
    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.publish("company-admitted", CompanyAdmitted(
        hub_id="nl-noord", company_id=company, pool="groningen-friesland"))
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    await journeys.publish("intake-completed", interviewed(company))
    await journeys.publish("plan-agreed", plan(company))
    await journeys.handle(company).execute_update(
        CompanyJourney.pause, StaffAction(actor="staff-3", reason="company reorganises"))
    await journeys.sleep(company, 20 * DAY)
    await journeys.handle(company).execute_update(
        CompanyJourney.resume, StaffAction(actor="staff-3", reason="back"))
    await journeys.publish("service-cancelled", cancelled(company, "financing"), sender="financing")


async def staff(journeys: Journeys) -> None:
    company = STAFF
    settings = journeys.ctx.settings
    await journeys.publish("company-registered", registered(company, "waitlisted"))
    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.act(company, CompanyJourney.move_to_stage,
                       StageMove(actor="staff-3", reason="a place after all", stage="registered"))
    await journeys.act(company, CompanyJourney.reassign_advisor,
                       Reassignment(actor="staff-1", reason="leave", advisor_id="23"))
    await journeys.publish("plan-agreed", plan(company, "training", "financing"))
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    await journeys.publish("intake-completed", interviewed(company))
    await journeys.act(company, CompanyJourney.cancel_item,
                       ItemAction(actor="staff-3", reason="course full", item_id="p-training"))
    await journeys.publish("assessment-completed", assessed(company, "T0"))  # refused: a repeat T0
    await journeys.publish("service-cancelled", cancelled(company, "financing"), sender="financing")
    await journeys.sleep(company, settings.journey_follow_up_after + settings.journey_follow_up_window + DAY)
    journeys.intake.down = True
    await journeys.act(company, CompanyJourney.move_to_stage,
                       StageMove(actor="staff-3", reason="second chance", stage="follow_up_due"))
    await journeys.sleep(company, settings.journey_follow_up_after + DAY)
    journeys.intake.down = False
    await journeys.act(company, CompanyJourney.close, StaffAction(actor="staff-3", reason="company sold"))
    await journeys.env.sleep(settings.journey_keep_after_end + DAY)
    await journeys.handle(company).result()


async def continued(journeys: Journeys) -> None:
    company = CONTINUED
    await journeys.publish("company-registered", registered(company))
    await journeys.act(company, CompanyJourney.pause, StaffAction(actor="staff-3", reason="holiday"))
    for n in range(8):
        sent = NotificationSent(hub_id="nl-noord", company_id=company, notification_id=f"n-{n}",
                                message_type="welcome", channel="email", sent_at=AT)
        event = build_event("notification-sent", sent, sender="notifications", at=AT)[1]
        await journeys.bridge.handlers()[NotificationSent](None, event, sent)
    await journeys.settled(company, taken=9)
    await journeys.act(company, CompanyJourney.resume, StaffAction(actor="staff-3", reason="back"))
    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.sleep(company, 8 * DAY)


async def second_run(journeys: Journeys, company: str) -> WorkflowHistory:
    """The history of the run the journey's first run continued as new into."""
    first = await journeys.handle(company).describe()
    first_run = journeys.env.client.get_workflow_handle(
        workflow_id(company), run_id=first.raw_description.workflow_execution_info.first_run_id)
    last = (await first_run.fetch_history()).events[-1]
    new_run = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return await journeys.env.client.get_workflow_handle(workflow_id(company), run_id=new_run).fetch_history()


async def record(journeys: Journeys, name: str, company: str, history: WorkflowHistory | None = None) -> None:
    history = history or await journeys.handle(company).fetch_history()  # the newest run's
    path = HERE / f"journey-{VERSION}-{name}.json"
    path.write_text(history.to_json())
    print("wrote", path, len(history.events), "events")


async def main() -> None:
    scratch = Path(tempfile.mkdtemp())
    async with running_journeys(journey_settings(scratch / "a")) as journeys:
        for name, scenario, company in (("finished", finished, FINISHED), ("running", running, RUNNING),
                                        ("staff", staff, STAFF)):
            await scenario(journeys)
            await record(journeys, name, company)
    async with running_journeys(journey_settings(scratch / "b", journey_history_threshold=25)) as journeys:
        await continued(journeys)
        await record(journeys, "continued", CONTINUED, await second_run(journeys, CONTINUED))


if __name__ == "__main__":
    asyncio.run(main())
