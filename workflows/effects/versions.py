"""The CompanyJourney workflow's versions, decided once when a run starts (`effects_for_this_run`,
as temporalio's samples choose a behaviour by `workflow.patched` at the start): a journey recorded
by an older version replays, and goes on, with the behaviour it was recorded with. Each older
version is the newer one with what it did not do yet taken out, here and nowhere else.

Versions (the patch markers in the histories):
- before `journey-orchestration`: registration and welcome only (no log, timers, search attributes
  or continue-as-new): `BeforeOrchestration`;
- before `staff-follow-through`: staff actions did not follow through: `WithoutFollowThrough`;
- today: `Effects`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.effects.base import SYSTEM
    from workflows.effects.firing import Firing
    from workflows.models import JourneyPolicy, JourneyState, PlannedItem, Stage

# The marker of the orchestration: journeys recorded before it (registration and welcome only)
# replay without it, and keep their old behaviour.
PATCH = "journey-orchestration"
# Staff actions follow through as facts do: held facts released, a stage's own timers only, its
# next step taken, a reopened journey made whole, messages sent again under ids of their own, the
# owner told of a cancelled item (journeys recorded before keep their old behaviour).
STAFF_PATCH = "staff-follow-through"


class Effects(Firing):
    """The journey's effects as today's version has them."""


class WithoutFollowThrough(Effects):
    """Journeys recorded before staff actions followed through."""

    async def before_staff_action(self) -> None:
        """Facts that came before a staff action waited for the run loop."""

    async def after_staff_action(self) -> None:
        """Held facts waited for the next fact."""

    async def staff_move(self, stage: Stage, reason: str, actor: str) -> None:
        """The stage only: nothing reopened, nothing following."""
        await self.move_to(stage, reason, actor)

    def _keep_only_timers_of(self, stage: Stage) -> None:
        """Other stages' timers ran on."""

    def _key_of_round(self, key: str, rounds: int) -> str | None:
        """A message sent again kept its first id."""
        return None

    def _value_of_ended(self, item: PlannedItem, value: Decimal | None) -> Decimal | None:
        return value

    async def _stop_owner(self, item: PlannedItem, reason: str, actor: str) -> None:
        """The owning service was not told of a cancellation by staff."""

    def _actor_following(self, actor: str) -> str:
        return SYSTEM


class BeforeOrchestration(WithoutFollowThrough):
    """Journeys recorded before the orchestration: registration and welcome only."""

    def may_continue_as_new(self) -> bool:
        return False

    def _note(self, action: str, reason: str, at: datetime | None = None) -> None:
        """No log yet."""

    def publish_search_attributes(self) -> None:
        """No search attributes yet."""

    async def _start_intake(self) -> None:
        """No questionnaire or intake alert yet."""

    async def _enter(self, stage: Stage) -> None:
        """No timers yet."""


def effects_for_this_run(state: JourneyState, policy: JourneyPolicy) -> Effects:
    """The effects of the version this run was recorded with (today's for a new run)."""
    if not workflow.patched(PATCH):
        return BeforeOrchestration(state, policy)
    if not workflow.patched(STAFF_PATCH):
        return WithoutFollowThrough(state, policy)
    return Effects(state, policy)
