"""Training needs: the journey's plan items training delivers. `service-requested` opens one, staff
link it to a course, and it completes (`service-completed`, worth the course's cost per participant
for every participant of the company who attended) when the last session of that course the
company took part in has ended with at least one of them attending, or when staff mark it complete.
Cancelling one answers `service-cancelled` (exits.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.training import companies, domain
from services.training.catalogue import course_or_404
from services.training.context import Training
from services.training.models import (
    Course,
    CourseSession,
    Enrolment,
    Need,
    NeedComplete,
    NeedCourse,
    NeedPublic,
)
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.services import ServiceCancelled, ServiceCompleted, ServiceRequested
from shared.errors import Conflict, NotFound


async def open_need(
    command: ServiceRequested, session: AsyncSession, hub_id: str, clock: Clock, training: Training
) -> Need:
    """Open the training need of a plan item (again: the same need). A company training has not
    heard of yet is stored; one that left the programme gets `service-cancelled` at once."""
    company = await companies.seen(session, hub_id, command.company_id, clock.now())
    need = await need_of(session, hub_id, command.plan_item_id, for_update=True)
    if need is not None:
        if need.company_id != command.company_id:
            raise Conflict(f"plan item {command.plan_item_id} belongs to company {need.company_id}")
        return need
    need = Need(
        hub_id=hub_id,
        plan_item_id=command.plan_item_id,
        company_id=command.company_id,
        title=command.title,
        requested_at=clock.now(),
    )
    session.add(need)
    await session.flush()
    if company.left_at_stage is not None:
        await cancel(session, training, need, f"the company left the programme ({company.left_at_stage})")
    return need


async def need_of(
    session: AsyncSession, hub_id: str, plan_item_id: str, *, for_update: bool = False
) -> Need | None:
    query = select(Need).where(Need.hub_id == hub_id, Need.plan_item_id == plan_item_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def visible_need(
    session: AsyncSession, hub_id: str, plan_item_id: str, staff: Principal | None
) -> Need:
    need = await need_of(session, hub_id, plan_item_id, for_update=True)
    if need is None:
        raise NotFound(f"no training need for plan item {plan_item_id}")
    try:
        await companies.visible_company(session, hub_id, need.company_id, staff)
    except NotFound:
        raise NotFound(f"no training need for plan item {plan_item_id}") from None
    return need


async def link_course(
    command: NeedCourse,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    plan_item_id: str,
    staff: Principal | None,
) -> NeedPublic:
    """Link an open need to an active course; it may be delivered at once (the company's staff
    attended that course already)."""
    need = await visible_need(session, hub_id, plan_item_id, staff)
    course = await course_or_404(session, hub_id, command.course_id)
    if need.status != "open":
        raise Conflict(f"the training need of plan item {plan_item_id} is {need.status}")
    if course.status != "active":
        raise Conflict(f"course {course.id} is retired")
    need.course_id = course.id
    session.add(need)
    await session.flush()
    await deliver_if_done(session, hub_id, clock, training, company_id=need.company_id, course_id=course.id)
    return NeedPublic.model_validate(need)


async def mark_complete(
    command: NeedComplete,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    plan_item_id: str,
    staff: Principal | None,
) -> NeedPublic:
    """Staff mark an open need complete: worth the participants who attended its course so far."""
    need = await visible_need(session, hub_id, plan_item_id, staff)
    if need.status != "open":
        raise Conflict(f"the training need of plan item {plan_item_id} is {need.status}")
    _, attendees = await attendance_of(session, need)
    await complete(session, clock, training, need, attendees)
    return NeedPublic.model_validate(need)


async def attendance_of(session: AsyncSession, need: Need) -> tuple[list[datetime], int]:
    """The ends of the linked course's sessions the company has (had) participants in, and how
    many of them attended."""
    if need.course_id is None:
        return [], 0
    query = (
        select(CourseSession.ends_at, Enrolment.attendance)
        .join(CourseSession, col(CourseSession.id) == Enrolment.session_id)
        .where(
            Enrolment.company_id == need.company_id,
            Enrolment.course_id == need.course_id,
            Enrolment.status == "confirmed",
        )
    )
    rows = (await session.execute(query)).all()
    return [ends for ends, _ in rows], sum(1 for _, attendance in rows if attendance == "attended")


async def deliver_if_done(
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    company_id: str,
    course_id: str,
) -> list[Need]:
    """Complete the company's open needs linked to the course once they are delivered."""
    query = (
        select(Need)
        .where(
            Need.hub_id == hub_id,
            Need.company_id == company_id,
            Need.course_id == course_id,
            Need.status == "open",
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    done = []
    for need in (await session.execute(query)).scalars().all():
        if await delivered(session, clock, training, need):
            done.append(need)
    return done


async def delivered(session: AsyncSession, clock: Clock, training: Training, need: Need) -> bool:
    """Whether an open need is delivered; it is completed if so."""
    ends, attendees = await attendance_of(session, need)
    if not domain.need_delivered(ends, attendees, clock.now()):
        return False
    await complete(session, clock, training, need, attendees)
    return True


async def complete(
    session: AsyncSession, clock: Clock, training: Training, need: Need, attendees: int
) -> None:
    course = await session.get(Course, need.course_id) if need.course_id else None
    cost = course.cost_per_participant_eur if course else Decimal(0)
    need.status, need.attendees = "completed", attendees
    need.value_eur, need.completed_at = domain.need_value(cost, attendees), clock.now()
    session.add(need)
    await answer(session, training, need)


async def cancel(session: AsyncSession, training: Training, need: Need, reason: str) -> None:
    need.status, need.cancel_reason = "cancelled", reason
    session.add(need)
    await answer(session, training, need)


async def answer(session: AsyncSession, training: Training, need: Need) -> None:
    """Tell the journey how a closed need ended (again, with the same event id, when asked again)."""
    item = {"hub_id": need.hub_id, "company_id": need.company_id, "plan_item_id": need.plan_item_id}
    data: ServiceCompleted | ServiceCancelled
    if need.status == "completed":
        assert need.value_eur is not None and need.completed_at is not None
        name = "service-completed"
        data = ServiceCompleted(**item, value_eur=need.value_eur, completed_at=need.completed_at)
    elif need.status == "cancelled":
        assert need.cancel_reason is not None
        name = "service-cancelled"
        data = ServiceCancelled(**item, reason=need.cancel_reason)
    else:
        return
    await training.outbox.add(session, name, data, event_id=derived_event_id(name, need.plan_item_id),
                              to="training")


async def of_company(session: AsyncSession, hub_id: str, company_id: str) -> list[NeedPublic]:
    query = (
        select(Need)
        .where(Need.hub_id == hub_id, Need.company_id == company_id)
        .order_by(col(Need.requested_at), col(Need.id))
    )
    return [NeedPublic.model_validate(n) for n in (await session.execute(query)).scalars().all()]
