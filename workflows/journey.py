"""The CompanyJourney workflow: one per company (`journey-<company id>`), the single truth of where
that company stands.

Facts arrive through the `apply_fact` signal and are applied one at a time, in arrival order, by the
run loop; the rules of `workflows.stages` say whether a fact applies now, waits for its prerequisite
(held, and applied when it arrives) or never applies (refused, logged with the reason). Timers are
named deadlines in the state, so pausing keeps what each had left. Staff actions are updates with
validators; reads are the `state` query and the search attributes. The effects of applying a fact
or firing a timer live in `workflows.effects`. Code here must stay deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from shared.contracts.journey import Stage
    from workflows.effects import Effects, effects_for_this_run
    from workflows.models import (
        Fact,
        ItemAction,
        ItemOutcome,
        JourneyStart,
        JourneyState,
        JourneyView,
        LogEntry,
        NextTimer,
        PausedTimer,
        Reassignment,
        StaffAction,
        StageMove,
        WelcomeStatus,
    )
    from workflows.stages import refusal
    from workflows.timers import next_timer


@workflow.defn
class CompanyJourney:
    @workflow.init
    def __init__(self, start: JourneyStart) -> None:
        # Built in init, not in run: a signal-with-start delivers the signal before run begins.
        state = start.state or JourneyState(company_id=start.company_id, hub_id=start.hub_id)
        self._state = state
        self._taken = set(state.applied_event_ids)
        # Today's effects until the run decides the version it was recorded with.
        self._fx = Effects(state, start.policy)
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, start: JourneyStart) -> None:
        # The version is decided here, once: journeys recorded by an older version replay with the
        # behaviour they were recorded with (workflows/effects/versions.py).
        self._fx = effects_for_this_run(self._state, start.policy)
        while True:
            await self._live()
            await workflow.wait_condition(workflow.all_handlers_finished)
            # A staff move may have reopened the journey while the last handlers finished.
            if self._fx.finished and not self._state.pending:
                return

    async def _live(self) -> None:
        """Apply facts and fire timers until the journey has ended and its keeping time is over.
        Facts that came with the end are still looked at (and refused, logged)."""
        while not self._fx.finished or self._state.pending:
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._state.pending:
                    workflow.continue_as_new(
                        JourneyStart(company_id=self._state.company_id, hub_id=self._state.hub_id,
                                     policy=self._fx.policy, state=self._state)
                    )
            seen = dict(self._state.timers)
            timeout = self._fx.time_to_next_timer()
            if timeout is None or timeout > timedelta(0):
                try:
                    await workflow.wait_condition(partial(self._woken, seen), timeout=timeout)
                except TimeoutError:
                    pass
            async with self._lock:
                await self._fx.take_pending()
                await self._fx.fire_due_timers()

    def _woken(self, timers: dict[str, datetime]) -> bool:
        # A staff action that sets, moves or stops a timer wakes the loop to wait anew.
        return bool(self._state.pending) or self._state.timers != timers

    def _should_continue_as_new(self) -> bool:
        if not self._fx.may_continue_as_new():
            return False
        info = workflow.info()
        return info.is_continue_as_new_suggested() or (
            info.get_current_history_length() >= self._fx.policy.history_threshold
        )

    @workflow.signal
    def apply_fact(self, fact: Fact) -> None:
        """Take a fact to apply; a fact with an id already taken is ignored."""
        if fact.event_id in self._taken:
            workflow.logger.info("fact %s (%s) already applied, ignored", fact.event_id, fact.name)
            return
        self._taken.add(fact.event_id)
        self._state.applied_event_ids.append(fact.event_id)
        self._state.pending.append(fact)

    @workflow.query
    def state(self) -> JourneyView:
        s = self._state
        welcome: WelcomeStatus = (
            "sent" if s.welcome_sent_at else "requested" if s.welcome_requested_at else "not-requested"
        )
        first = next_timer(s)
        return JourneyView(
            company_id=s.company_id,
            hub_id=s.hub_id,
            stage=s.stage,
            history=s.history,
            applied_facts=len(s.applied_event_ids),
            welcome=welcome,
            welcome_requested_at=s.welcome_requested_at,
            welcome_sent_at=s.welcome_sent_at,
            region=s.region,
            advisor_id=s.advisor_id,
            items=s.items,
            next_timer=NextTimer(name=first[0], due_at=first[1]) if first else None,
            paused=s.paused_remaining is not None,
            paused_timers=[PausedTimer(name=name, remaining=left) for left, name in
                           sorted((left, name) for name, left in (s.paused_remaining or {}).items())],
            overdue=s.overdue,
            closed_without_follow_up=s.closed_without_follow_up,
            held=s.held,
            log=s.log,
            pending=len(s.pending),
            busy=self._lock.locked(),
        )

    # Staff actions. Each validator refuses with the reason and changes nothing; the handler first
    # applies the facts that came before it (an action never overtakes them), checks again under the
    # lock, logs who and why, acts, and releases the facts the action was a prerequisite of.

    def _refuse(self, action: str, request: StaffAction, **details: object) -> None:
        if not request.actor.strip():
            raise ApplicationError("a staff action needs the staff member who asks for it")
        if not request.reason.strip():
            raise ApplicationError("a staff action needs a reason")
        why = refusal(self._state, action, **details)
        if why is not None:
            raise ApplicationError(why, non_retryable=True)

    async def _act(
        self, action: str, request: StaffAction, note: Callable[[], str],
        effect: Callable[[], Awaitable[None] | None], **details: object,
    ) -> JourneyView:
        async with self._lock:
            await self._fx.before_staff_action()
            self._refuse(action, request, **details)
            self._state.log.append(
                LogEntry(at=workflow.now(), actor=request.actor, action=note(), reason=request.reason)
            )
            done = effect()
            if done is not None:
                await done
            await self._fx.after_staff_action()
        return self.state()

    @workflow.update
    async def pause(self, request: StaffAction) -> JourneyView:
        """Stop every timer; each keeps the time it still had to run."""
        return await self._act("pause", request, lambda: "paused", self._fx.pause)

    @pause.validator
    def _validate_pause(self, request: StaffAction) -> None:
        self._refuse("pause", request)

    @workflow.update
    async def resume(self, request: StaffAction) -> JourneyView:
        """Run the timers again with the time each had left."""
        return await self._act("resume", request, lambda: "resumed", self._fx.resume)

    @resume.validator
    def _validate_resume(self, request: StaffAction) -> None:
        self._refuse("resume", request)

    @workflow.update
    async def reassign_advisor(self, request: Reassignment) -> JourneyView:
        def reassign() -> None:
            self._state.advisor_id = request.advisor_id
            self._fx.publish_search_attributes()

        def note() -> str:
            return f"advisor {self._state.advisor_id or 'none'} -> {request.advisor_id}"

        return await self._act("reassign", request, note, reassign, advisor_id=request.advisor_id)

    @reassign_advisor.validator
    def _validate_reassign(self, request: Reassignment) -> None:
        self._refuse("reassign", request, advisor_id=request.advisor_id)

    @workflow.update
    async def cancel_item(self, request: ItemAction) -> JourneyView:
        """Cancel a planned item, whoever delivers it (its owning service is told to stop)."""
        return await self._act(
            "cancel-item", request, lambda: f"cancelled item {request.item_id}",
            lambda: self._fx.end_item(request.item_id, "cancelled", None, request.reason, request.actor),
            item_id=request.item_id,
        )

    @cancel_item.validator
    def _validate_cancel_item(self, request: ItemAction) -> None:
        self._refuse("cancel-item", request, item_id=request.item_id)

    @workflow.update
    async def record_item(self, request: ItemOutcome) -> JourneyView:
        """Complete (with its value) or cancel an item staff deliver, such as test-before-invest."""
        return await self._act(
            "record-item", request, lambda: f"{request.outcome} item {request.item_id}",
            lambda: self._fx.end_item(request.item_id, request.outcome, request.value_eur, request.reason,
                                      request.actor),
            item_id=request.item_id, outcome=request.outcome, value_eur=request.value_eur,
        )

    @record_item.validator
    def _validate_record_item(self, request: ItemOutcome) -> None:
        self._refuse("record-item", request, item_id=request.item_id, outcome=request.outcome,
                     value_eur=request.value_eur)

    @workflow.update
    async def withdraw(self, request: StaffAction) -> JourneyView:
        return await self._act("withdraw", request, lambda: "withdrew the company",
                               lambda: self._fx.move_to(Stage.WITHDRAWN, request.reason, request.actor))

    @withdraw.validator
    def _validate_withdraw(self, request: StaffAction) -> None:
        self._refuse("withdraw", request)

    @workflow.update
    async def close(self, request: StaffAction) -> JourneyView:
        return await self._act("close", request, lambda: "closed the journey",
                               lambda: self._fx.move_to(Stage.CLOSED, request.reason, request.actor))

    @close.validator
    def _validate_close(self, request: StaffAction) -> None:
        self._refuse("close", request)

    @workflow.update
    async def move_to_stage(self, request: StageMove) -> JourneyView:
        """Move the journey to any stage by hand (the reason is mandatory): the new stage's timers
        start afresh and what it does at once follows; an ended journey can be reopened."""
        return await self._act(
            "move", request, lambda: f"moved the journey to {request.stage}",
            lambda: self._fx.staff_move(request.stage, request.reason, request.actor), stage=request.stage,
        )

    @move_to_stage.validator
    def _validate_move(self, request: StageMove) -> None:
        self._refuse("move", request, stage=request.stage)
