"""The journey's messages: notifications requested for the company, alerts to its advisor (or the
region's staff) that mark the journey overdue, and the questionnaire context with a fresh link."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from shared.contracts import derived_event_id
    from shared.contracts.intake import AssessmentStage
    from shared.contracts.notifications import MessageType, NotificationRequested, RecipientRef, Urgency
    from workflows.activities import JourneyActivities
    from workflows.effects.base import ACTIVITY_TIMEOUT, Base
    from workflows.models import LinkRequest, primary_contact

# Invitations and reminders carry a link to the questionnaire (journeys recorded before do not).
# Decided where the first questionnaire message goes, where the histories recorded its marker.
LINK_PATCH = "questionnaire-links"


class Messages(Base):
    def _key_of_round(self, key: str, rounds: int) -> str | None:
        """The key of a message sent again (its stage entered again): an id of its own."""
        return f"{key}-{rounds}" if rounds > 1 else None

    async def _notify(
        self, message_type: MessageType, key: str, *, urgency: Urgency = "transactional",
        recipient: RecipientRef | None = None, activity_id: str | None = None,
        context: dict[str, str] | None = None,
    ) -> None:
        s = self.state
        workflow_id = workflow.info().workflow_id
        at = workflow.now()
        rounds = s.message_rounds[key] = s.message_rounds.get(key, 0) + 1
        again = self._key_of_round(key, rounds)
        if again is not None:
            key, activity_id = again, None
        await workflow.execute_activity_method(
            JourneyActivities.request_notification,
            NotificationRequested(
                company_id=s.company_id, hub_id=s.hub_id, message_type=message_type, urgency=urgency,
                notification_id=derived_event_id(workflow_id, key),
                recipient=recipient or primary_contact(s.company_id),
                context={"stage": s.stage or "", **(context or {})}, region=s.region,
            ),
            activity_id=activity_id or f"notification-{key}",
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
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
