"""What applying a fact or firing a timer does to a journey: the CompanyJourney workflow's effects.

Runs inside the workflow (deterministic: time from `workflow.now()`, I/O only through activities
with stable ids). `Effects` holds the journey's state and policy; `CompanyJourney` calls it under
its lock, so one effect finishes before the next begins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from shared.contracts import derived_event_id
    from shared.contracts.intake import (
        AssessmentCompleted,
        AssessmentStage,
        CompanyNotEligible,
        CompanyRegistered,
        CompanyWithdrawn,
        IntakeScheduled,
        PlanAgreed,
    )
    from shared.contracts.notifications import MessageType, NotificationSent, RecipientRef, Urgency
    from shared.contracts.services import ServiceCancelled, ServiceCompleted
    from workflows import timers
    from workflows.activities import JourneyActivities
    from workflows.models import (
        BusinessDeadline,
        Fact,
        HeldFact,
        JourneyPolicy,
        JourneyState,
        LinkRequest,
        LogEntry,
        NotificationCommand,
        PlannedItem,
        ServiceCancellationCommand,
        ServiceCommand,
        Stage,
        StageChange,
        StageChangeCommand,
    )
    from workflows.stages import ENDED, OWNERS, disposition, next_stage_after_item, parse

# The marker of the orchestration: journeys recorded before it (registration and welcome only)
# replay without it, and keep their old behaviour.
PATCH = "journey-orchestration"
# Invitations and reminders carry a link to the questionnaire (journeys recorded before do not).
LINK_PATCH = "questionnaire-links"
# Staff actions follow through as facts do: held facts released, a stage's own timers only, its
# next step taken, a reopened journey made whole, messages sent again under ids of their own, the
# owner told of a cancelled item (journeys recorded before keep their old behaviour).
STAFF_PATCH = "staff-follow-through"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
SYSTEM = "system"

STAGE_KEY = SearchAttributeKey.for_keyword("JourneyStage")
REGION_KEY = SearchAttributeKey.for_keyword("Region")
ADVISOR_KEY = SearchAttributeKey.for_keyword("Advisor")
HUB_KEY = SearchAttributeKey.for_keyword("HubId")
OVERDUE_KEY = SearchAttributeKey.for_bool("Overdue")
SEARCH_ATTRIBUTE_KEYS = (STAGE_KEY, REGION_KEY, ADVISOR_KEY, HUB_KEY, OVERDUE_KEY)

# The stage a registration opens the journey in, by cohort status, and the reason recorded.
REGISTRATION_STAGES: dict[str, tuple[Stage, str]] = {
    "admitted": ("registered", "company registered"),
    "waitlisted": ("waitlisted", "company registered on the waiting list"),
    "outside_cohort": ("not_eligible", "company registered outside the cohort"),
}
QUESTIONNAIRE_TIMERS = ("questionnaire-reminder-", "questionnaire-escalation")
FOLLOW_UP_TIMERS = ("follow-up-",)
INTAKE_OVERDUE = "intake not scheduled"
QUESTIONNAIRE_OVERDUE = "questionnaire not answered"
FOLLOW_UP_OVERDUE = "closed without follow-up"
# The timers an open stage keeps (by name prefix) and what is overdue while they run; entering
# another stage stops the rest and resolves what they were overdue for.
STAGE_TIMERS: dict[str, tuple[str, ...]] = {
    "registered": ("intake-alert", *QUESTIONNAIRE_TIMERS),
    "intake_scheduled": QUESTIONNAIRE_TIMERS,
    "follow_up_due": FOLLOW_UP_TIMERS,
}
OVERDUE_TIMERS: dict[str, tuple[str, ...]] = {
    INTAKE_OVERDUE: ("intake-alert",),
    QUESTIONNAIRE_OVERDUE: QUESTIONNAIRE_TIMERS,
}


class Effects:
    def __init__(self, state: JourneyState, policy: JourneyPolicy) -> None:
        self.state = state
        self.policy = policy
        self.orchestrating = True
        self.follow_through = True
        self.finished = False

    # Facts.

    async def take_pending(self) -> None:
        """Apply the facts taken so far, in arrival order."""
        while self.state.pending:
            await self.take(self.state.pending.pop(0))

    async def take(self, fact: Fact) -> None:
        """Apply, hold or refuse `fact`; every applied fact may release held ones, in order."""
        verdict, reason = disposition(self.state, fact)
        if verdict == "hold":
            self.state.held.append(HeldFact(fact=fact, reason=reason, since=workflow.now()))
            self._note(f"held {fact.name}", reason)
        elif verdict == "refuse":
            self._note(f"refused {fact.name}", reason)
        else:
            await self._apply(fact)
            await self.release_held()

    async def release_held(self) -> None:
        """Apply (or refuse) every held fact whose prerequisite has come, in arrival order."""
        released = True
        while released:
            released = False
            for held in list(self.state.held):
                if disposition(self.state, held.fact)[0] != "hold":
                    self.state.held.remove(held)
                    await self.take(held.fact)
                    released = True
                    break

    async def _apply(self, fact: Fact) -> None:
        data = parse(fact)
        s = self.state
        if isinstance(data, CompanyRegistered):
            s.region = data.region
            s.company_name = data.legal_name
            s.advisor_id = self.policy.default_advisors.get(data.region)
            stage, reason = REGISTRATION_STAGES[data.cohort_status]
            await self.move_to(stage, reason)
        elif fact.name == "company-admitted":
            await self.move_to("registered", "company admitted from the waiting list")
        elif isinstance(data, IntakeScheduled):
            await self._intake_scheduled(data)
        elif fact.name == "intake-completed":
            s.intake_completed = True
            await self._maybe_intake_completed()
        elif isinstance(data, AssessmentCompleted):
            await self._assessed(data)
        elif isinstance(data, PlanAgreed):
            await self._plan_agreed(data)
        elif isinstance(data, CompanyWithdrawn | CompanyNotEligible):
            exit_stage: Stage = "withdrawn" if isinstance(data, CompanyWithdrawn) else "not_eligible"
            await self.move_to(exit_stage, data.reason, data.actor)
        elif isinstance(data, ServiceCompleted):
            await self.end_item(data.plan_item_id, "completed", data.value_eur, "service completed", SYSTEM)
        elif isinstance(data, ServiceCancelled):
            await self.end_item(data.plan_item_id, "cancelled", None, data.reason, SYSTEM)
        elif isinstance(data, NotificationSent):
            if data.notification_id == s.welcome_notification_id:
                s.welcome_sent_at = data.sent_at

    async def _intake_scheduled(self, data: IntakeScheduled) -> None:
        s = self.state
        s.advisor_id = data.advisor_id
        s.intake_scheduled_at = data.scheduled_at
        self.cancel_timers("intake-alert")
        self._resolve(INTAKE_OVERDUE)
        if s.stage == "registered":
            await self.move_to("intake_scheduled", "intake scheduled")
        else:
            self._note("intake rescheduled", f"at {data.scheduled_at.isoformat()}")
            self.publish_search_attributes()

    async def _assessed(self, data: AssessmentCompleted) -> None:
        s = self.state
        if data.stage == "T0":
            s.t0_assessment_id = data.assessment_id
            self.cancel_timers(*QUESTIONNAIRE_TIMERS)
            self._resolve(QUESTIONNAIRE_OVERDUE)
            await self._maybe_intake_completed()
        else:
            s.t1_assessment_id = data.assessment_id
            await self.move_to("follow_up_completed", "T1 assessment completed")
            await self.move_to("closed", "follow-up completed")

    async def _maybe_intake_completed(self) -> None:
        s = self.state
        if s.stage == "intake_scheduled" and s.intake_completed and s.t0_assessment_id:
            await self.move_to("intake_completed", "intake and T0 assessment completed")
        else:
            self.publish_search_attributes()

    async def _plan_agreed(self, data: PlanAgreed) -> None:
        s = self.state
        s.plan_id = data.plan_id
        s.items = [
            PlannedItem(item_id=i.item_id, kind=i.kind, title=i.title, owner=OWNERS[i.kind],
                        amount_eur=i.amount_eur, purpose=i.purpose)
            for i in data.items
        ]
        await self.move_to("plan_agreed", f"plan {data.plan_id} agreed", data.agreed_by)
        for item in s.items:
            if item.owner is not None:
                await workflow.execute_activity_method(
                    JourneyActivities.request_service,
                    ServiceCommand(company_id=s.company_id, hub_id=s.hub_id, owner=item.owner, item=item),
                    activity_id=f"service-{item.item_id}",
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                )
        await self.move_to("in_services", "services requested")

    async def end_item(
        self, item_id: str, outcome: str, value: Decimal | None, reason: str, actor: str
    ) -> None:
        s = self.state
        item = next(i for i in s.items if i.item_id == item_id)
        item.status = "completed" if outcome == "completed" else "cancelled"
        item.value_eur = value if outcome == "completed" or not self.follow_through else None
        item.ended_at = workflow.now()
        item.end_reason = reason
        if actor == SYSTEM:
            self._note(f"item {item_id} {item.status}", reason)
        elif item.owner is not None and self.follow_through:
            # Staff cancelled what a service delivers: that service must stop.
            await workflow.execute_activity_method(
                JourneyActivities.request_service_cancellation,
                ServiceCancellationCommand(company_id=s.company_id, hub_id=s.hub_id, owner=item.owner,
                                           item_id=item_id, reason=reason, actor=actor),
                activity_id=f"service-cancel-{item_id}",
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
        following = next_stage_after_item(s)
        if following is not None:
            await self.move_to(following, "every planned service has ended",
                               actor if self.follow_through else SYSTEM)

    async def staff_move(self, stage: Stage, reason: str, actor: str) -> None:
        """A move by hand: the stage, a reopened journey made whole, and what the stage does at once
        (a plan goes on into its services, a completed follow-up closes, ended services make the
        follow-up due)."""
        s = self.state
        if self.follow_through:
            if s.stage in ENDED and stage not in ENDED:  # reopening
                self.finished = False
                s.closed_without_follow_up = False
                self._resolve(FOLLOW_UP_OVERDUE)
            if stage not in ("follow_up_completed", "closed"):
                s.t1_assessment_id = None  # a T1 recorded before no longer counts
        await self.move_to(stage, reason, actor)
        if not self.follow_through:
            return
        if stage == "plan_agreed":
            await self.move_to("in_services", "the agreed plan's services go on", actor)
        elif stage == "follow_up_completed":
            await self.move_to("closed", "follow-up completed", actor)
        following = next_stage_after_item(s)
        if following is not None:
            await self.move_to(following, "every planned service has ended", actor)

    # Stages.

    async def move_to(self, stage: Stage, reason: str, actor: str = SYSTEM) -> None:
        s = self.state
        change = StageChange(
            from_stage=s.stage, to_stage=stage, at=workflow.now(), reason=reason, actor=actor
        )
        s.stage = stage
        s.history.append(change)
        await workflow.execute_activity_method(
            JourneyActivities.publish_stage_change,
            StageChangeCommand(company_id=s.company_id, hub_id=s.hub_id, change=change),
            # Numbered by the journey's own history, so the id (and the event id derived from it)
            # stays the same across retries, replays and runs of this workflow id.
            activity_id=f"stage-change-{len(s.history)}",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        if stage == "registered":
            await self._admitted()
        if self.orchestrating:
            await self._enter(stage)

    async def _admitted(self) -> None:
        s = self.state
        if s.welcome_notification_id is None:
            s.welcome_notification_id = derived_event_id(workflow.info().workflow_id, "welcome")
            await self._notify("welcome", "welcome", activity_id="notification-welcome")
            s.welcome_requested_at = workflow.now()
        if not self.orchestrating:
            return
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
        if self.follow_through and stage not in ENDED:
            kept = STAGE_TIMERS.get(stage, ())
            timers.cancel_timers_except(s, kept)
            for overdue, prefixes in OVERDUE_TIMERS.items():
                if not set(prefixes) & set(kept):
                    self._resolve(overdue)
        if stage in ENDED:
            self.cancel_timers("")
            s.paused_remaining = None
            s.overdue = []
            self.set_timer("end", self.policy.keep_after_end, entered_at)
        elif stage == "follow_up_due":
            self.cancel_timers(*FOLLOW_UP_TIMERS)
            self.set_timer("follow-up-invitation", self.policy.follow_up_after, entered_at)
        self.publish_search_attributes()

    # Timers (their rules in workflows.timers).

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

    async def fire_due_timers(self) -> None:
        # One at a time, first due first: a timer's effect may cancel or set others.
        while (first := timers.next_timer(self.state)) is not None and first[1] <= workflow.now():
            del self.state.timers[first[0]]
            await self._fire(*first)

    async def _fire(self, name: str, due: datetime) -> None:
        s = self.state
        if name == "intake-alert":
            await self._alert_advisor("staff-alert", name, INTAKE_OVERDUE, {
                "summary": "Intake interview not scheduled after admission",
            })
        elif name.startswith("questionnaire-reminder-"):
            await self._notify("questionnaire-reminder", name, urgency="reminder",
                               context=await self._questionnaire("T0", s.questionnaire_deadline, name))
        elif name == "questionnaire-escalation":
            deadline = s.questionnaire_deadline or due
            await self._alert_advisor("staff-escalation", name, QUESTIONNAIRE_OVERDUE, {
                "summary": "Questionnaire T0 not answered", "overdue_since": deadline.date().isoformat(),
            })
        elif name == "follow-up-invitation":
            s.follow_up_deadline = due + self.policy.follow_up_window
            await self._notify("follow-up-invitation", name,
                               context=await self._questionnaire("T1", s.follow_up_deadline, name))
            for n, after in enumerate(self.policy.follow_up_reminders, start=1):
                self.set_timer(f"follow-up-reminder-{n}", after, due)
            self.set_timer("follow-up-window", self.policy.follow_up_window, due)
        elif name.startswith("follow-up-reminder-"):
            await self._notify("follow-up-reminder", name, urgency="reminder",
                               context=await self._questionnaire("T1", s.follow_up_deadline, name))
        elif name == "follow-up-window":
            await self.move_to("closed", "closed without follow-up: no T1 assessment in the window")
            s.closed_without_follow_up = True
            s.overdue = [FOLLOW_UP_OVERDUE]
            self.publish_search_attributes()
        elif name == "end":
            self.finished = True

    # Messages, log and search attributes.

    async def _notify(
        self, message_type: MessageType, key: str, *, urgency: Urgency = "transactional",
        recipient: RecipientRef | None = None, activity_id: str | None = None,
        context: dict[str, str] | None = None,
    ) -> None:
        s = self.state
        workflow_id = workflow.info().workflow_id
        at = workflow.now()
        rounds = s.message_rounds[key] = s.message_rounds.get(key, 0) + 1
        if rounds > 1 and self.follow_through:
            key = f"{key}-{rounds}"  # sent again (its stage entered again): an id of its own
            activity_id = None
        await workflow.execute_activity_method(
            JourneyActivities.request_notification,
            NotificationCommand(
                company_id=s.company_id, hub_id=s.hub_id, message_type=message_type, urgency=urgency,
                notification_id=derived_event_id(workflow_id, key), recipient=recipient,
                context={"stage": s.stage or "", **(context or {})}, region=s.region,
            ),
            activity_id=activity_id or f"notification-{key}",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        if self.orchestrating:
            to = recipient.id if recipient else "company"
            self._note(f"requested {message_type}", f"{key} to {to}", at)

    async def _alert_advisor(
        self, message_type: MessageType, key: str, overdue: str, context: dict[str, str]
    ) -> None:
        s = self.state
        # Without an advisor yet, the console resolves the region's staff.
        recipient = (
            RecipientRef(service="console", kind="advisor", id=s.advisor_id) if s.advisor_id
            else RecipientRef(service="console", kind="region-staff", id=s.region or "")
        )
        await self._notify(message_type, key, urgency="staff-alert", recipient=recipient,
                           context={"reason": overdue, "region": s.region or "",
                                    "company_name": s.company_name or s.company_id, **context})
        if overdue not in s.overdue:
            s.overdue.append(overdue)
        self.publish_search_attributes()

    async def _questionnaire(
        self, assessment: AssessmentStage, deadline: datetime | None, key: str = "questionnaire-invitation"
    ) -> dict[str, str]:
        """The context of a questionnaire message: which assessment, the date to answer by, and a
        fresh link from intake; without intake, the message goes without the link (and notifications
        says so), logged here."""
        context: dict[str, str] = {"assessment": assessment}
        if deadline is not None:
            context["deadline"] = deadline.date().isoformat()
        if not workflow.patched(LINK_PATCH):
            return context
        try:
            context["questionnaire_url"] = await workflow.execute_activity_method(
                JourneyActivities.questionnaire_link,
                LinkRequest(company_id=self.state.company_id, stage=assessment),
                activity_id=f"link-{key}",
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=self.policy.link_attempts,
                                         maximum_interval=timedelta(minutes=1)),
            )
        except ActivityError as error:
            self._note("questionnaire link unavailable", str(error.cause or error))
        return context

    def _resolve(self, overdue: str) -> None:
        if overdue in self.state.overdue:
            self.state.overdue.remove(overdue)

    def _note(self, action: str, reason: str, at: datetime | None = None) -> None:
        if self.orchestrating:
            entry = LogEntry(at=at or workflow.now(), actor=SYSTEM, action=action, reason=reason)
            self.state.log.append(entry)

    def publish_search_attributes(self) -> None:
        if not self.orchestrating:
            return
        s = self.state
        updates: list[SearchAttributeUpdate] = [
            HUB_KEY.value_set(s.hub_id),
            OVERDUE_KEY.value_set(bool(s.overdue)),
            STAGE_KEY.value_set(s.stage) if s.stage else STAGE_KEY.value_unset(),
            REGION_KEY.value_set(s.region) if s.region else REGION_KEY.value_unset(),
            ADVISOR_KEY.value_set(s.advisor_id) if s.advisor_id else ADVISOR_KEY.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)
