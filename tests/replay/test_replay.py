"""Every recorded journey history under tests/replay/ replays on today's CompanyJourney without a
nondeterminism error: a change to the workflow that would break running journeys fails here.

The histories: `journey-v1-registered` from the first version (before the orchestration patch);
for v2 (the orchestration), v3 (with questionnaire links) and v4 (staff actions that follow
through), `finished` (a whole journey, workflow completed) and `running` (waitlisted, admitted, a
held plan, paused and resumed, services open); for v4 also `staff` (moves, reassignment, a cancelled
item, a refused fact, closed without follow-up and reopened, intake down, closed by staff) and
`continued` (the second run of a paused journey that continued as new while facts came in).
`python -m tests.replay.record` made the v2, v3 and v4 ones.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, WorkflowReplayResult

from workflows.effects import Effects
from workflows.journey import CompanyJourney
from workflows.worker import DATA_CONVERTER

HERE = Path(__file__).parent
HISTORIES = sorted(HERE.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))


async def replay(path: Path) -> WorkflowReplayResult:
    history = load(path)
    replayer = Replayer(workflows=[CompanyJourney], data_converter=DATA_CONVERTER)
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


def test_the_recorded_histories_are_there():
    assert {p.stem for p in HISTORIES} >= {
        "journey-v1-registered", "journey-v2-finished", "journey-v2-running",
        "journey-v3-finished", "journey-v3-running",
        "journey-v4-finished", "journey-v4-running", "journey-v4-staff", "journey-v4-continued",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_a_recorded_history_replays_without_nondeterminism(path: Path):
    result = await replay(path)
    assert result.replay_failure is None


async def test_a_change_that_breaks_determinism_fails_the_replay(monkeypatch):
    # A plausible "simplification": the intake alert in calendar days, without the calendar activity.
    async def calendar_days(self: Effects, admitted_at: datetime) -> timedelta:
        return timedelta(days=7)

    monkeypatch.setattr(Effects, "_intake_alert_delay", calendar_days)
    result = await replay(HERE / "journey-v3-finished.json")
    assert result.replay_failure is not None
