"""The ground the journey's effects stand on: the state and policy, the log, overdue reasons, the
search attributes and the timers' bookkeeping (their rules in workflows.timers), and the names of
the timers and overdue reasons the other parts share."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from workflows import timers
    from workflows.models import JourneyPolicy, JourneyState, LogEntry

ACTIVITY_TIMEOUT = timedelta(seconds=30)
SYSTEM = "system"

STAGE_KEY = SearchAttributeKey.for_keyword("JourneyStage")
REGION_KEY = SearchAttributeKey.for_keyword("Region")
ADVISOR_KEY = SearchAttributeKey.for_keyword("Advisor")
HUB_KEY = SearchAttributeKey.for_keyword("HubId")
OVERDUE_KEY = SearchAttributeKey.for_bool("Overdue")
SEARCH_ATTRIBUTE_KEYS = (STAGE_KEY, REGION_KEY, ADVISOR_KEY, HUB_KEY, OVERDUE_KEY)

QUESTIONNAIRE_TIMERS = ("questionnaire-reminder-", "questionnaire-escalation")
FOLLOW_UP_TIMERS = ("follow-up-",)
INTAKE_OVERDUE = "intake not scheduled"
QUESTIONNAIRE_OVERDUE = "questionnaire not answered"
FOLLOW_UP_OVERDUE = "closed without follow-up"


class Base:
    """The journey's state and policy, and the bookkeeping every effect uses."""

    def __init__(self, state: JourneyState, policy: JourneyPolicy) -> None:
        self.state = state
        self.policy = policy
        self.finished = False

    def may_continue_as_new(self) -> bool:
        """Whether a long history may go on in a new run of this workflow id."""
        return True

    # Log, overdue reasons and search attributes.

    def _resolve(self, overdue: str) -> None:
        if overdue in self.state.overdue:
            self.state.overdue.remove(overdue)

    def _note(self, action: str, reason: str, at: datetime | None = None) -> None:
        entry = LogEntry(at=at or workflow.now(), actor=SYSTEM, action=action, reason=reason)
        self.state.log.append(entry)

    def publish_search_attributes(self) -> None:
        s = self.state
        updates: list[SearchAttributeUpdate] = [
            HUB_KEY.value_set(s.hub_id),
            OVERDUE_KEY.value_set(bool(s.overdue)),
            STAGE_KEY.value_set(s.stage) if s.stage else STAGE_KEY.value_unset(),
            REGION_KEY.value_set(s.region) if s.region else REGION_KEY.value_unset(),
            ADVISOR_KEY.value_set(s.advisor_id) if s.advisor_id else ADVISOR_KEY.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)

    # Timers.

    def set_timer(self, name: str, after: timedelta, since: datetime | None = None) -> None:
        """Fire `name` `after` the moment `since` (now by default); while paused, keep it waiting."""
        now = workflow.now()
        timers.set_timer(self.state, name, (since or now) + after, now)

    def cancel_timers(self, *prefixes: str) -> None:
        timers.cancel_timers(self.state, *prefixes)

    def pause(self) -> None:
        timers.pause(self.state, workflow.now())

    def resume(self) -> None:
        timers.resume(self.state, workflow.now())

    def time_to_next_timer(self) -> timedelta | None:
        return timers.time_to_next(self.state, workflow.now())
