"""Enrolments' use cases: enrol a company's staff member (a seat while one is left, else the
waitlist), cancel an enrolment until the cut-off (its seat goes to the first in line), cancel a
company's open enrolments when it leaves or its need is cancelled, and record attendance once a
session has ended (which may deliver the company's training need)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.training import companies, domain, needs, reminders, seats
from services.training.catalogue import session_or_404
from services.training.context import Training
from services.training.models import (
    AttendanceList,
    CourseSession,
    Enrolment,
    EnrolmentCancel,
    EnrolmentCreate,
    EnrolmentPublic,
)
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.training import (
    AttendanceRecorded,
    EnrolmentCancelled,
    EnrolmentConfirmed,
    EnrolmentWaitlisted,
)
from shared.errors import Conflict, Invalid, NotFound


def cutoff(training: Training, row: CourseSession) -> datetime:
    return domain.enrolment_cutoff(
        training.calendar, row.starts_at, training.settings.training_enrolment_cutoff_business_days
    )


async def enrol(
    command: EnrolmentCreate,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    session_id: str,
    staff: Principal | None,
) -> EnrolmentPublic:
    """Enrol a participant of `command.company_id` in the session: `enrolment-confirmed` (and the
    reminder) while a seat is left and nobody waits, else `enrolment-waitlisted` with the place in
    line. 404 for an unknown (or, for an advisor, unseen) company or session; 409 for a company that
    left the programme, after the cut-off, or for someone already enrolled."""
    company = await companies.visible_company(session, hub_id, command.company_id, staff, for_update=True)
    companies.ensure_in_programme(company)
    row = await session_or_404(session, hub_id, session_id, for_update=True)
    now = clock.now()
    if problem := domain.enrolment_problem(now, row.starts_at, cutoff(training, row)):
        raise Conflict(problem)
    await _refuse_duplicate(session, row.id, command.email)
    counted = await seats.counts(session, row.id)
    status = domain.seat_for(counted["confirmed"], row.capacity, counted["waitlisted"])
    enrolment = Enrolment(
        hub_id=hub_id,
        session_id=row.id,
        course_id=row.course_id,
        company_id=company.id,
        participant_name=command.participant_name,
        email=command.email,
        role=command.role,
        language=command.language,
        status=status,
        created_at=now,
        confirmed_at=now if status == "confirmed" else None,
        waitlist_position=await seats.last_waitlist_position(session, row.id) + 1
        if status == "waitlisted"
        else None,
    )
    session.add(enrolment)
    await session.flush()
    fact = {
        "hub_id": hub_id,
        "company_id": company.id,
        "enrolment_id": enrolment.id,
        "session_id": row.id,
        "course_id": row.course_id,
    }
    if status == "confirmed":
        await training.outbox.add(
            session,
            "enrolment-confirmed",
            EnrolmentConfirmed(**fact),
            event_id=derived_event_id("enrolment-confirmed", enrolment.id),
        )
        await reminders.request_reminder(session, enrolment, row, training, now)
    else:
        assert enrolment.waitlist_position is not None
        await training.outbox.add(
            session,
            "enrolment-waitlisted",
            EnrolmentWaitlisted(**fact, position=enrolment.waitlist_position),
            event_id=derived_event_id("enrolment-waitlisted", enrolment.id),
        )
    return EnrolmentPublic.model_validate(enrolment)


async def _refuse_duplicate(session: AsyncSession, session_id: str, email: str) -> None:
    query = select(Enrolment.id).where(
        Enrolment.session_id == session_id,
        func.lower(Enrolment.email) == email.lower(),
        Enrolment.status != "cancelled",
    )
    existing = await session.scalar(query)
    if existing is not None:
        raise Conflict(f"{email} is already enrolled in session {session_id} (enrolment {existing})")


async def enrolment_or_404(
    session: AsyncSession, hub_id: str, enrolment_id: str, staff: Principal | None
) -> Enrolment:
    """The enrolment, 404 when unknown or of a company the caller does not see."""
    enrolment = await session.get(Enrolment, enrolment_id, populate_existing=True)
    if enrolment is None or enrolment.hub_id != hub_id:
        raise NotFound(f"no enrolment with id {enrolment_id}")
    await companies.visible_company(session, hub_id, enrolment.company_id, staff)
    return enrolment


async def cancel(
    command: EnrolmentCancel,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    enrolment_id: str,
    staff: Principal | None,
) -> EnrolmentPublic:
    """Cancel an enrolment until the cut-off (409 after it, or when it is cancelled already); a seat
    it held goes to the first waitlisted participant."""
    enrolment = await enrolment_or_404(session, hub_id, enrolment_id, staff)
    row = await session_or_404(session, hub_id, enrolment.session_id, for_update=True)
    await session.refresh(enrolment)
    if enrolment.status == "cancelled":
        raise Conflict(f"enrolment {enrolment_id} was cancelled already ({enrolment.cancel_reason})")
    if problem := domain.enrolment_problem(clock.now(), row.starts_at, cutoff(training, row)):
        raise Conflict(f"too late to cancel: {problem}")
    await _cancel(session, hub_id, clock, training, enrolment, row, command.reason)
    return EnrolmentPublic.model_validate(enrolment)


async def _cancel(
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    enrolment: Enrolment,
    row: CourseSession,
    reason: str,
) -> None:
    held_seat = enrolment.status == "confirmed"
    enrolment.status, enrolment.waitlist_position = "cancelled", None
    enrolment.cancel_reason, enrolment.cancelled_at = reason, clock.now()
    session.add(enrolment)
    await training.outbox.add(
        session,
        "enrolment-cancelled",
        EnrolmentCancelled(
            hub_id=hub_id,
            company_id=enrolment.company_id,
            enrolment_id=enrolment.id,
            session_id=row.id,
            course_id=row.course_id,
            reason=reason,
        ),
        event_id=derived_event_id("enrolment-cancelled", enrolment.id),
    )
    await session.flush()
    if held_seat:
        await seats.promote(session, hub_id, clock, training, row)


async def cancel_open(
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    company_id: str,
    reason: str,
    course_id: str | None = None,
) -> int:
    """Cancel the company's enrolments (of one course, or all) in sessions that have not started;
    their seats go to the waitlists. The company's row is locked by the caller."""
    query = (
        select(Enrolment, CourseSession)
        .join(CourseSession, col(CourseSession.id) == Enrolment.session_id)
        .where(
            Enrolment.hub_id == hub_id,
            Enrolment.company_id == company_id,
            col(Enrolment.status).in_(("confirmed", "waitlisted")),
            col(CourseSession.starts_at) > clock.now(),
        )
        .order_by(col(CourseSession.id))
    )
    if course_id is not None:
        query = query.where(Enrolment.course_id == course_id)
    found = (await session.execute(query)).all()
    for enrolment, row in found:
        locked = await session_or_404(session, hub_id, row.id, for_update=True)
        await session.refresh(enrolment)
        if enrolment.status != "cancelled":
            await _cancel(session, hub_id, clock, training, enrolment, locked, reason)
    return len(found)


async def record_attendance(
    command: AttendanceList,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    session_id: str,
    staff: Principal | None,
) -> list[EnrolmentPublic]:
    """Record who of the session's confirmed participants attended, once the session has ended
    (409 before); `attendance-recorded` for each. A company's training need linked to the course is
    then delivered when this was its last session and someone of it attended."""
    row = await session_or_404(session, hub_id, session_id, for_update=True)
    if clock.now() < row.ends_at:
        raise Conflict(
            f"session {session_id} ends at {row.ends_at.isoformat()}: attendance is recorded after it"
        )
    ids = [record.enrolment_id for record in command.participants]
    if len(set(ids)) != len(ids):
        raise Invalid.of(["participants: an enrolment is listed twice"])
    recorded: list[Enrolment] = []
    for record in command.participants:
        enrolment = await enrolment_or_404(session, hub_id, record.enrolment_id, staff)
        if enrolment.session_id != row.id:
            raise NotFound(f"enrolment {enrolment.id} is not in session {session_id}")
        if enrolment.status != "confirmed":
            raise Conflict(
                f"enrolment {enrolment.id} is {enrolment.status}: only confirmed participants attend"
            )
        enrolment.attendance = record.attendance
        session.add(enrolment)
        await training.outbox.add(
            session,
            "attendance-recorded",
            AttendanceRecorded(
                hub_id=hub_id,
                company_id=enrolment.company_id,
                enrolment_id=enrolment.id,
                session_id=row.id,
                course_id=row.course_id,
                attended=record.attendance == "attended",
            ),
            event_id=derived_event_id("attendance-recorded", enrolment.id, record.attendance),
        )
        recorded.append(enrolment)
    await session.flush()
    for company_id in sorted({e.company_id for e in recorded}):
        await needs.deliver_if_done(
            session, hub_id, clock, training, company_id=company_id, course_id=row.course_id
        )
    return [EnrolmentPublic.model_validate(e) for e in recorded]


async def of_session(
    session: AsyncSession, hub_id: str, session_id: str, staff: Principal | None
) -> list[EnrolmentPublic]:
    """The session's enrolments the caller may see (an advisor: its regions' companies), in order."""
    await session_or_404(session, hub_id, session_id)
    query = (
        select(Enrolment)
        .where(Enrolment.session_id == session_id)
        .order_by(col(Enrolment.created_at), col(Enrolment.id))
    )
    rows: Sequence[Enrolment] = (await session.execute(query)).scalars().all()
    if staff is not None and staff.role == "advisor":
        visible = {c.id for c in await companies.of_regions(session, hub_id, staff.regions)}
        rows = [e for e in rows if e.company_id in visible]
    return [EnrolmentPublic.model_validate(e) for e in rows]
