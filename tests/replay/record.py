"""Record the journey histories the replay test replays: `python -m tests.replay.record`.

Runs a finished journey (admission to closed, nine months, workflow completed) and a running one
(held plan, paused, services open) on the time-skipping server with the real activities, and writes
their histories as JSON beside this file, named after `VERSION`. Record a new version after a change
to the workflow, and keep the older files: the point is that they were made by older code.
`journey-v1-registered.json` was recorded from the first version of the workflow (registration and
welcome only).
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from shared.contracts.intake import CompanyAdmitted
from tests.support.journeys import (
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
from workflows.journey import CompanyJourney
from workflows.models import ItemOutcome, StaffAction

HERE = Path(__file__).parent
# The version the recorded files are named after: v2 was the orchestration, v3 added the
# questionnaire links (patch `questionnaire-links`).
VERSION = "v3"
FINISHED = "00000000-0000-4000-8000-00000000f001"
RUNNING = "00000000-0000-4000-8000-00000000f002"


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


async def main() -> None:
    async with running_journeys(journey_settings(Path(tempfile.mkdtemp()))) as journeys:
        for name, scenario, company in (("finished", finished, FINISHED), ("running", running, RUNNING)):
            await scenario(journeys)
            history = await journeys.handle(company).fetch_history()
            path = HERE / f"journey-{VERSION}-{name}.json"
            path.write_text(history.to_json())
            print("wrote", path, len(history.events), "events")


if __name__ == "__main__":
    asyncio.run(main())
