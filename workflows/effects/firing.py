"""Timers firing: the intake alert, the questionnaire's reminders and escalation, the follow-up's
invitation, reminders and window, and the end of a journey's keeping time."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts.journey import Stage
    from workflows import timers
    from workflows.effects.base import FOLLOW_UP_OVERDUE, INTAKE_OVERDUE, QUESTIONNAIRE_OVERDUE
    from workflows.effects.facts import Facts


class Firing(Facts):
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
            await self.move_to(Stage.CLOSED, "closed without follow-up: no T1 assessment in the window")
            s.closed_without_follow_up = True
            s.overdue = [FOLLOW_UP_OVERDUE]
            self.publish_search_attributes()
        elif name == "end":
            self.finished = True
