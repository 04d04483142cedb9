"""The intake interview: schedule it with an advisor, or move it (one use case: a time without
offset is the hub's local time, stored in UTC; not in the past, not an hour the clocks skip), record
its outcome and notes, and read it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain
from services.intake.audit import audit
from services.intake.records import Intake, IntakeOutcome, IntakePublic, IntakeSchedule
from services.intake.use_cases.common import intake_of, known_company, now_utc, require_in_programme
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id, new_event_id
from shared.contracts.intake import IntakeCompleted, IntakeScheduled
from shared.errors import Conflict, Invalid, NotFound
from shared.outbox import Outbox


async def _open_intake(session: AsyncSession, hub_id: str, company_id: str, staff: Principal) -> Intake:
    """The company's interview, not yet held, with the company locked; NotFound / Conflict otherwise."""
    require_in_programme(await known_company(session, hub_id, company_id, staff=staff, for_update=True))
    intake = await intake_of(session, company_id)
    if intake is None:
        raise NotFound(f"company {company_id} has no intake scheduled")
    if intake.outcome == "completed":
        raise Conflict("the intake interview has already taken place")
    return intake


async def schedule_interview(
    session: AsyncSession, company_id: str, when: IntakeSchedule, *, again: bool, hub_id: str,
    clock: Clock, outbox: Outbox, zone: ZoneInfo, staff: Principal,
) -> IntakePublic:
    """Schedule the interview (`intake-scheduled`; Conflict when one is scheduled already), or, `again`,
    move the one not yet held to another time or advisor (`intake-scheduled` with rescheduled true)."""
    if again:
        intake: Intake | None = await _open_intake(session, hub_id, company_id, staff)
    else:
        require_in_programme(await known_company(session, hub_id, company_id, staff=staff, for_update=True))
        if await intake_of(session, company_id) is not None:
            raise Conflict("the intake is already scheduled; PATCH it")
        intake = None
    try:
        scheduled_at = domain.interview_moment(when.scheduled_at, zone, clock.now())
    except ValueError as error:
        raise Invalid(f"scheduled_at: {error}") from None
    moved = {"advisor_id": when.advisor_id, "scheduled_at": scheduled_at.isoformat()}
    if intake is None:
        intake = Intake(hub_id=hub_id, company_id=company_id, advisor_id=when.advisor_id,
                        scheduled_at=scheduled_at)
        session.add(intake)
        await session.flush()
        action, changes = "intake-scheduled", moved
    else:
        action, changes = "intake-rescheduled", {
            "from": intake.scheduled_at.isoformat(), "advisor_from": intake.advisor_id,
            "to": moved["scheduled_at"], "advisor_to": moved["advisor_id"],
        }
        intake.advisor_id, intake.scheduled_at, intake.outcome = when.advisor_id, scheduled_at, None
        session.add(intake)
    data = IntakeScheduled(hub_id=hub_id, company_id=company_id, intake_id=intake.id,
                           scheduled_at=intake.scheduled_at, advisor_id=intake.advisor_id, rescheduled=again)
    # The first scheduling is one fact for good; every move is a fact of its own.
    event_id = new_event_id() if again else derived_event_id("intake-scheduled", intake.id)
    await outbox.add(session, "intake-scheduled", data, event_id=event_id)
    audit(session, clock, hub_id, staff.subject, company_id, action, changes)
    return IntakePublic.model_validate(intake)


async def record_outcome(
    session: AsyncSession, company_id: str, held: IntakeOutcome, *, hub_id: str, clock: Clock,
    outbox: Outbox, staff: Principal,
) -> IntakePublic:
    """Record the interview's outcome, notes and needs; `completed` publishes `intake-completed`
    (once), a no-show or cancellation leaves it to be rescheduled."""
    intake = await _open_intake(session, hub_id, company_id, staff)
    intake.outcome, intake.notes, intake.needs = held.outcome, held.notes, list(held.needs)
    if held.outcome == "completed":
        intake.completed_at = now_utc(clock)
        await outbox.add(
            session, "intake-completed",
            IntakeCompleted(hub_id=intake.hub_id, company_id=company_id, intake_id=intake.id,
                            completed_at=intake.completed_at, outcome=held.outcome),
            event_id=derived_event_id("intake-completed", intake.id),
        )
    session.add(intake)
    audit(session, clock, hub_id, staff.subject, company_id, "intake-outcome",
          {"outcome": held.outcome, "needs": list(held.needs)})
    return IntakePublic.model_validate(intake)


async def read_interview(
    session: AsyncSession, hub_id: str, company_id: str, staff: Principal
) -> IntakePublic:
    await known_company(session, hub_id, company_id, staff=staff)
    intake = await intake_of(session, company_id)
    if intake is None:
        raise NotFound(f"company {company_id} has no intake scheduled")
    return IntakePublic.model_validate(intake)
