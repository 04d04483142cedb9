"""The CompanyJourney workflow: one per company (`journey-<company id>`), moved by the facts the
bridge signals to it.

Facts arrive through the `apply_fact` signal and are applied one at a time, in arrival order, by the
run loop, so an activity of one fact finishes before the next fact is looked at. The workflow keeps
the ids of the facts it took and ignores a repeat. The `state` query reads the journey. Code here
must stay deterministic: time from `workflow.now()`, I/O only through activities.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts import derived_event_id
    from shared.contracts.intake import CompanyRegistered
    from shared.contracts.notifications import NotificationSent
    from workflows.activities import JourneyActivities
    from workflows.models import (
        Fact,
        JourneyStart,
        JourneyState,
        JourneyView,
        NotificationCommand,
        Stage,
        StageChange,
        StageChangeCommand,
        WelcomeStatus,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
SYSTEM = "system"

# The stage a registration opens the journey in, by cohort status, and the reason recorded.
REGISTRATION_STAGES: dict[str, tuple[Stage, str]] = {
    "admitted": ("registered", "company registered"),
    "waitlisted": ("waitlisted", "company registered on the waiting list"),
    "outside_cohort": ("not_eligible", "company registered outside the cohort"),
}


@workflow.defn
class CompanyJourney:
    @workflow.init
    def __init__(self, start: JourneyStart) -> None:
        # Built in init, not in run: a signal-with-start delivers the signal before run begins.
        self._state = JourneyState(company_id=start.company_id, hub_id=start.hub_id)
        self._taken = set(self._state.applied_event_ids)
        self._pending: list[Fact] = []

    @workflow.run
    async def run(self, start: JourneyStart) -> None:
        # Waits for facts for ever; a later version bounds the history with continue-as-new.
        while True:
            await workflow.wait_condition(lambda: bool(self._pending))
            await self._apply(self._pending.pop(0))

    @workflow.signal
    def apply_fact(self, fact: Fact) -> None:
        """Take a fact to apply; a fact with an id already taken is ignored."""
        if fact.event_id in self._taken:
            workflow.logger.info("fact %s (%s) already applied, ignored", fact.event_id, fact.name)
            return
        self._taken.add(fact.event_id)
        self._state.applied_event_ids.append(fact.event_id)
        self._pending.append(fact)

    @workflow.query
    def state(self) -> JourneyView:
        s = self._state
        welcome: WelcomeStatus = (
            "sent" if s.welcome_sent_at else "requested" if s.welcome_requested_at else "not-requested"
        )
        return JourneyView(
            company_id=s.company_id,
            hub_id=s.hub_id,
            stage=s.stage,
            history=s.history,
            applied_facts=len(s.applied_event_ids),
            welcome=welcome,
            welcome_requested_at=s.welcome_requested_at,
            welcome_sent_at=s.welcome_sent_at,
        )

    async def _apply(self, fact: Fact) -> None:
        if fact.name == "company-registered":
            await self._registered(CompanyRegistered.model_validate(fact.data))
        elif fact.name == "notification-sent":
            self._notification_sent(NotificationSent.model_validate(fact.data))
        else:
            workflow.logger.warning("no rule for fact %s (%s), ignored", fact.event_id, fact.name)

    async def _registered(self, data: CompanyRegistered) -> None:
        if self._state.stage is not None:
            workflow.logger.warning("company already registered, second registration ignored")
            return
        stage, reason = REGISTRATION_STAGES[data.cohort_status]
        await self._move_to(stage, reason)
        if stage == "registered":
            await self._request_welcome()

    def _notification_sent(self, data: NotificationSent) -> None:
        if data.notification_id == self._state.welcome_notification_id:
            self._state.welcome_sent_at = data.sent_at

    async def _move_to(self, stage: Stage, reason: str, actor: str = SYSTEM) -> None:
        change = StageChange(
            from_stage=self._state.stage, to_stage=stage, at=workflow.now(), reason=reason, actor=actor
        )
        self._state.stage = stage
        self._state.history.append(change)
        await workflow.execute_activity_method(
            JourneyActivities.publish_stage_change,
            StageChangeCommand(company_id=self._state.company_id, hub_id=self._state.hub_id, change=change),
            # Numbered by the journey's own history, so the id (and the event id derived from it)
            # stays the same across retries, replays and runs of this workflow id.
            activity_id=f"stage-change-{len(self._state.history)}",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    async def _request_welcome(self) -> None:
        notification_id = derived_event_id(workflow.info().workflow_id, "welcome")
        self._state.welcome_notification_id = notification_id
        await workflow.execute_activity_method(
            JourneyActivities.request_notification,
            NotificationCommand(
                company_id=self._state.company_id,
                hub_id=self._state.hub_id,
                notification_id=notification_id,
                message_type="welcome",
            ),
            activity_id="notification-welcome",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        self._state.welcome_requested_at = workflow.now()
