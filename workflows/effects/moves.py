"""Moving a journey between stages: the stage change published, what entering a stage starts and
stops (the welcome, the questionnaire and its timers, the intake alert, the follow-up, the end),
planned items ended, and a move by staff with what follows from it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts import derived_event_id
    from shared.contracts.journey import JourneyStageChanged
    from workflows import timers
    from workflows.activities import JourneyActivities
    from workflows.effects.base import (
        ACTIVITY_TIMEOUT,
        FOLLOW_UP_OVERDUE,
        FOLLOW_UP_TIMERS,
        INTAKE_OVERDUE,
        QUESTIONNAIRE_OVERDUE,
        QUESTIONNAIRE_TIMERS,
        SYSTEM,
    )
    from workflows.effects.messages import Messages
    from workflows.models import (
        BusinessDeadline,
        PlannedItem,
        ServiceCancellationCommand,
        Stage,
        StageChange,
    )
    from workflows.stages import ENDED, next_stage_after_item

# The timers an open stage keeps (by name prefix) and what is overdue while they run; entering
# another stage stops the rest and resolves what they were overdue for.
STAGE_TIMERS: dict[str, tuple[str, ...]] = {
    Stage.REGISTERED: ("intake-alert", *QUESTIONNAIRE_TIMERS),
    Stage.INTAKE_SCHEDULED: QUESTIONNAIRE_TIMERS,
    Stage.FOLLOW_UP_DUE: FOLLOW_UP_TIMERS,
}
OVERDUE_TIMERS: dict[str, tuple[str, ...]] = {
    INTAKE_OVERDUE: ("intake-alert",),
    QUESTIONNAIRE_OVERDUE: QUESTIONNAIRE_TIMERS,
}


class Moves(Messages):
    async def move_to(self, stage: Stage, reason: str, actor: str = SYSTEM) -> None:
        s = self.state
        change = StageChange(
            from_stage=s.stage, to_stage=stage, at=workflow.now(), reason=reason, actor=actor
        )
        s.stage = stage
        s.history.append(change)
        await workflow.execute_activity_method(
            JourneyActivities.publish_stage_change,
            JourneyStageChanged(company_id=s.company_id, hub_id=s.hub_id, **change.model_dump()),
            # Numbered by the journey's own history, so the id (and the event id derived from it)
            # stays the same across retries, replays and runs of this workflow id.
            activity_id=f"stage-change-{len(s.history)}",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        if stage == Stage.REGISTERED:
            await self._admitted()
        await self._enter(stage)

    async def _admitted(self) -> None:
        s = self.state
        if s.welcome_notification_id is None:
            s.welcome_notification_id = derived_event_id(workflow.info().workflow_id, "welcome")
            await self._notify("welcome", "welcome", activity_id="notification-welcome")
            s.welcome_requested_at = workflow.now()
        await self._start_intake()

    async def _start_intake(self) -> None:
        """Invite to the T0 questionnaire with its reminders, and watch for the intake's scheduling."""
        s = self.state
        admitted_at = s.history[-1].at
        if s.t0_assessment_id is None:
            s.questionnaire_deadline = admitted_at + self.policy.questionnaire_escalation_after
            await self._notify("questionnaire-invitation", "questionnaire-invitation",
                               context=await self._questionnaire("T0", s.questionnaire_deadline))
            for n, after in enumerate(self.policy.questionnaire_reminders, start=1):
                self.set_timer(f"questionnaire-reminder-{n}", after, admitted_at)
            self.set_timer("questionnaire-escalation", self.policy.questionnaire_escalation_after,
                           admitted_at)
        if s.intake_scheduled_at is None:
            self.set_timer("intake-alert", await self._intake_alert_delay(admitted_at), admitted_at)

    async def _intake_alert_delay(self, admitted_at: datetime) -> timedelta:
        if self.policy.intake_alert_after is not None:
            return self.policy.intake_alert_after
        due: datetime = await workflow.execute_activity_method(
            JourneyActivities.business_deadline,
            BusinessDeadline(start=admitted_at, business_days=self.policy.intake_alert_business_days),
            activity_id=f"intake-alert-deadline-{len(self.state.history)}",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        return due - admitted_at

    async def _enter(self, stage: Stage) -> None:
        """Start and stop the timers a stage owns, and publish the search attributes."""
        s = self.state
        entered_at = s.history[-1].at
        self.cancel_timers("end")
        if stage not in ENDED:
            self._keep_only_timers_of(stage)
        if stage in ENDED:
            self.cancel_timers("")
            s.paused_remaining = None
            s.overdue = []
            self.set_timer("end", self.policy.keep_after_end, entered_at)
        elif stage == Stage.FOLLOW_UP_DUE:
            self.cancel_timers(*FOLLOW_UP_TIMERS)
            self.set_timer("follow-up-invitation", self.policy.follow_up_after, entered_at)
        self.publish_search_attributes()

    def _keep_only_timers_of(self, stage: Stage) -> None:
        """Stop the timers of other stages and resolve what they were overdue for."""
        kept = STAGE_TIMERS.get(stage, ())
        timers.cancel_timers_except(self.state, kept)
        for overdue, prefixes in OVERDUE_TIMERS.items():
            if not set(prefixes) & set(kept):
                self._resolve(overdue)

    # Planned items.

    async def end_item(
        self, item_id: str, outcome: str, value: Decimal | None, reason: str, actor: str
    ) -> None:
        s = self.state
        item = next(i for i in s.items if i.item_id == item_id)
        item.status = "completed" if outcome == "completed" else "cancelled"
        item.value_eur = self._value_of_ended(item, value)
        item.ended_at = workflow.now()
        item.end_reason = reason
        if actor == SYSTEM:
            self._note(f"item {item_id} {item.status}", reason)
        else:
            await self._stop_owner(item, reason, actor)
        following = next_stage_after_item(s)
        if following is not None:
            await self.move_to(following, "every planned service has ended", self._actor_following(actor))

    def _value_of_ended(self, item: PlannedItem, value: Decimal | None) -> Decimal | None:
        return value if item.status == "completed" else None

    async def _stop_owner(self, item: PlannedItem, reason: str, actor: str) -> None:
        """Staff cancelled what a service delivers: that service must stop."""
        if item.owner is None:
            return
        s = self.state
        await workflow.execute_activity_method(
            JourneyActivities.request_service_cancellation,
            ServiceCancellationCommand(company_id=s.company_id, hub_id=s.hub_id, owner=item.owner,
                                       item_id=item.item_id, reason=reason, actor=actor),
            activity_id=f"service-cancel-{item.item_id}",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    def _actor_following(self, actor: str) -> str:
        """Who a move that follows from someone's action is recorded for."""
        return actor

    # Moves by staff.

    async def staff_move(self, stage: Stage, reason: str, actor: str) -> None:
        """A move by hand: the stage, a reopened journey made whole, and what the stage does at once
        (a plan goes on into its services, a completed follow-up closes, ended services make the
        follow-up due)."""
        s = self.state
        if s.stage in ENDED and stage not in ENDED:  # reopening
            self.finished = False
            s.closed_without_follow_up = False
            self._resolve(FOLLOW_UP_OVERDUE)
        if stage not in (Stage.FOLLOW_UP_COMPLETED, Stage.CLOSED):
            s.t1_assessment_id = None  # a T1 recorded before no longer counts
        await self.move_to(stage, reason, actor)
        if stage == Stage.PLAN_AGREED:
            await self.move_to(Stage.IN_SERVICES, "the agreed plan's services go on", actor)
        elif stage == Stage.FOLLOW_UP_COMPLETED:
            await self.move_to(Stage.CLOSED, "follow-up completed", actor)
        following = next_stage_after_item(s)
        if following is not None:
            await self.move_to(following, "every planned service has ended", actor)
