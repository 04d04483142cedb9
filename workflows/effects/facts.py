"""Facts: apply, hold or refuse each fact as the stage rules (workflows.stages) say, release the
held facts an applied one was waiting for, and what each kind of fact does, found by the model of
its contract's data (`FACT_EFFECTS`, one for each of shared.contracts.journey.JOURNEY_FACTS)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts import intake
    from shared.contracts.journey import JOURNEY_FACTS, STAGE_AT_REGISTRATION, Stage
    from shared.contracts.notifications import NotificationSentV2
    from shared.contracts.services import ServiceCancelled, ServiceCompleted
    from workflows.activities import JourneyActivities
    from workflows.effects.base import (
        ACTIVITY_TIMEOUT,
        INTAKE_OVERDUE,
        QUESTIONNAIRE_OVERDUE,
        QUESTIONNAIRE_TIMERS,
        SYSTEM,
    )
    from workflows.effects.moves import Moves
    from workflows.models import Fact, HeldFact, PlannedItem, ServiceCommand
    from workflows.stages import OWNERS, disposition, parse

# The reason recorded for the stage a registration opens the journey in (STAGE_AT_REGISTRATION).
REGISTRATION_REASONS: dict[str, str] = {
    "admitted": "company registered",
    "waitlisted": "company registered on the waiting list",
    "outside_cohort": "company registered outside the cohort",
}


class Facts(Moves):
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
            data = parse(fact)
            await FACT_EFFECTS[type(data)](self, data)
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

    async def before_staff_action(self) -> None:
        """A staff action never overtakes the facts that came before it."""
        await self.take_pending()

    async def after_staff_action(self) -> None:
        """Facts the action was a prerequisite of go on."""
        await self.release_held()

    # What each kind of fact does.

    async def _registered(self, data: intake.CompanyRegistered) -> None:
        s = self.state
        s.region = data.region
        s.company_name = data.legal_name
        s.advisor_id = self.policy.default_advisors.get(data.region)
        await self.move_to(STAGE_AT_REGISTRATION[data.cohort_status],
                           REGISTRATION_REASONS[data.cohort_status])

    async def _company_admitted(self, data: intake.CompanyAdmitted) -> None:
        await self.move_to(Stage.REGISTERED, "company admitted from the waiting list")

    async def _intake_scheduled(self, data: intake.IntakeScheduled) -> None:
        s = self.state
        s.advisor_id = data.advisor_id
        s.intake_scheduled_at = data.scheduled_at
        self.cancel_timers("intake-alert")
        self._resolve(INTAKE_OVERDUE)
        if s.stage == Stage.REGISTERED:
            await self.move_to(Stage.INTAKE_SCHEDULED, "intake scheduled")
        else:
            self._note("intake rescheduled", f"at {data.scheduled_at.isoformat()}")
            self.publish_search_attributes()

    async def _intake_completed(self, data: intake.IntakeCompleted) -> None:
        self.state.intake_completed = True
        await self._maybe_intake_completed()

    async def _assessed(self, data: intake.AssessmentCompleted) -> None:
        s = self.state
        if data.stage == "T0":
            s.t0_assessment_id = data.assessment_id
            self.cancel_timers(*QUESTIONNAIRE_TIMERS)
            self._resolve(QUESTIONNAIRE_OVERDUE)
            await self._maybe_intake_completed()
        else:
            s.t1_assessment_id = data.assessment_id
            await self.move_to(Stage.FOLLOW_UP_COMPLETED, "T1 assessment completed")
            await self.move_to(Stage.CLOSED, "follow-up completed")

    async def _maybe_intake_completed(self) -> None:
        s = self.state
        if s.stage == Stage.INTAKE_SCHEDULED and s.intake_completed and s.t0_assessment_id:
            await self.move_to(Stage.INTAKE_COMPLETED, "intake and T0 assessment completed")
        else:
            self.publish_search_attributes()

    async def _plan_agreed(self, data: intake.PlanAgreed) -> None:
        s = self.state
        s.plan_id = data.plan_id
        s.items = [
            PlannedItem(item_id=i.item_id, kind=i.kind, title=i.title, owner=OWNERS[i.kind],
                        amount_eur=i.amount_eur, purpose=i.purpose)
            for i in data.items
        ]
        await self.move_to(Stage.PLAN_AGREED, f"plan {data.plan_id} agreed", data.agreed_by)
        for item in s.items:
            if item.owner is not None:
                await workflow.execute_activity_method(
                    JourneyActivities.request_service,
                    ServiceCommand(company_id=s.company_id, hub_id=s.hub_id, owner=item.owner, item=item),
                    activity_id=f"service-{item.item_id}",
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                )
        await self.move_to(Stage.IN_SERVICES, "services requested")

    async def _withdrawn(self, data: intake.CompanyWithdrawn) -> None:
        await self.move_to(Stage.WITHDRAWN, data.reason, data.actor)

    async def _not_eligible(self, data: intake.CompanyNotEligible) -> None:
        await self.move_to(Stage.NOT_ELIGIBLE, data.reason, data.actor)

    async def _service_completed(self, data: ServiceCompleted) -> None:
        await self.end_item(data.plan_item_id, "completed", data.value_eur, "service completed", SYSTEM)

    async def _service_cancelled(self, data: ServiceCancelled) -> None:
        await self.end_item(data.plan_item_id, "cancelled", None, data.reason, SYSTEM)

    async def _notification_sent(self, data: NotificationSentV2) -> None:
        if data.notification_id == self.state.welcome_notification_id:
            self.state.welcome_sent_at = data.sent_at


FactEffect = Callable[[Facts, Any], Awaitable[None]]
FACT_EFFECTS: dict[type[BaseModel], FactEffect] = {
    intake.CompanyRegistered: Facts._registered,
    intake.CompanyAdmitted: Facts._company_admitted,
    intake.IntakeScheduled: Facts._intake_scheduled,
    intake.IntakeCompleted: Facts._intake_completed,
    intake.AssessmentCompleted: Facts._assessed,
    intake.PlanAgreed: Facts._plan_agreed,
    intake.CompanyWithdrawn: Facts._withdrawn,
    intake.CompanyNotEligible: Facts._not_eligible,
    ServiceCompleted: Facts._service_completed,
    ServiceCancelled: Facts._service_cancelled,
    NotificationSentV2: Facts._notification_sent,
}
# Every fact the journey accepts has its effect (checked when the worker loads this module).
if set(FACT_EFFECTS) != set(JOURNEY_FACTS.values()):
    raise RuntimeError("FACT_EFFECTS and the facts the journey accepts (JOURNEY_FACTS) differ")
