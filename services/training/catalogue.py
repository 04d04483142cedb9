"""The catalogue's use cases: courses (create, change, retire, list) and their sessions (plan one,
change its capacity or place, list them with the seats left). A session's moments come in the hub's
local time and are stored in UTC."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.training import domain, seats
from services.training.context import Training
from services.training.models import (
    Course,
    CourseCreate,
    CoursePublic,
    CourseSession,
    CourseUpdate,
    Enrolment,
    SessionCreate,
    SessionPublic,
    SessionUpdate,
)
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound


async def course_or_404(session: AsyncSession, hub_id: str, course_id: str) -> Course:
    course = await session.get(Course, course_id)
    if course is None or course.hub_id != hub_id:
        raise NotFound(f"no course with id {course_id}")
    return course


async def create_course(
    command: CourseCreate, session: AsyncSession, hub_id: str, clock: Clock
) -> CoursePublic:
    course = Course.model_validate(command, update={"hub_id": hub_id, "created_at": clock.now()})
    session.add(course)
    await session.flush()
    return CoursePublic.model_validate(course)


async def update_course(
    command: CourseUpdate, session: AsyncSession, hub_id: str, clock: Clock, *, course_id: str
) -> CoursePublic:
    course = await course_or_404(session, hub_id, course_id)
    for name, value in command.model_dump(exclude_unset=True).items():
        if value is None:
            raise Invalid.of([f"{name}: may be changed, not removed"])
        setattr(course, name, value)
    session.add(course)
    await session.flush()
    return CoursePublic.model_validate(course)


async def list_courses(
    session: AsyncSession,
    hub_id: str,
    *,
    status: domain.CourseStatus | None = None,
    dimension: str | None = None,
) -> list[CoursePublic]:
    query = select(Course).where(Course.hub_id == hub_id).order_by(col(Course.created_at), col(Course.id))
    if status is not None:
        query = query.where(Course.status == status)
    courses = (await session.execute(query)).scalars().all()
    return [CoursePublic.model_validate(c) for c in courses if dimension is None or dimension in c.dimensions]


async def create_session(
    command: SessionCreate,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    course_id: str,
) -> SessionPublic:
    course = await course_or_404(session, hub_id, course_id)
    if course.status != "active":
        raise Conflict(f"course {course_id} is retired: it gets no new sessions")
    zone = training.calendar.timezone
    starts_at, ends_at = domain.in_utc(command.starts_at, zone), domain.in_utc(command.ends_at, zone)
    problems = []
    if ends_at <= starts_at:
        problems.append("ends_at: must be after starts_at")
    if starts_at <= clock.now():
        problems.append(f"starts_at: {command.starts_at.isoformat()} has passed")
    if problems:
        raise Invalid.of(problems)
    row = CourseSession(
        hub_id=hub_id,
        course_id=course_id,
        starts_at=starts_at,
        ends_at=ends_at,
        location=command.location,
        link=command.link,
        capacity=command.capacity,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    return session_public(row, Counter(), training)


async def session_or_404(
    session: AsyncSession, hub_id: str, session_id: str, *, for_update: bool = False
) -> CourseSession:
    query = select(CourseSession).where(CourseSession.id == session_id, CourseSession.hub_id == hub_id)
    if for_update:
        # Every seat taken or freed in a session goes through this lock (see seats.py).
        query = query.with_for_update().execution_options(populate_existing=True)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no session with id {session_id}")
    return row


async def update_session(
    command: SessionUpdate,
    session: AsyncSession,
    hub_id: str,
    clock: Clock,
    training: Training,
    *,
    session_id: str,
) -> SessionPublic:
    """Change a session's capacity (never below the participants confirmed: 409; more seats go to
    the waitlist in order), location or link."""
    row = await session_or_404(session, hub_id, session_id, for_update=True)
    changes = command.model_dump(exclude_unset=True)
    if changes.get("capacity") is not None:
        counts = await seats.counts(session, row.id)
        if problem := domain.capacity_problem(changes["capacity"], counts["confirmed"]):
            raise Conflict(problem)
    for name, value in changes.items():
        if name == "capacity" and value is None:
            raise Invalid.of(["capacity: may be changed, not removed"])
        setattr(row, name, value)
    session.add(row)
    await session.flush()
    await seats.promote(session, hub_id, clock, training, row)
    return session_public(row, await seats.counts(session, row.id), training)


async def get_session(
    session: AsyncSession, hub_id: str, training: Training, session_id: str
) -> SessionPublic:
    row = await session_or_404(session, hub_id, session_id)
    return session_public(row, await seats.counts(session, row.id), training)


async def list_sessions(
    session: AsyncSession,
    hub_id: str,
    training: Training,
    *,
    starting_from: datetime | None = None,
    to: datetime | None = None,
    course_id: str | None = None,
) -> list[SessionPublic]:
    """The sessions starting in [from, to) (local time unless an offset is given), earliest first."""
    zone = training.calendar.timezone
    query = select(CourseSession).where(CourseSession.hub_id == hub_id)
    if starting_from is not None:
        query = query.where(col(CourseSession.starts_at) >= domain.in_utc(starting_from, zone))
    if to is not None:
        query = query.where(col(CourseSession.starts_at) < domain.in_utc(to, zone))
    if course_id is not None:
        await course_or_404(session, hub_id, course_id)
        query = query.where(CourseSession.course_id == course_id)
    rows = (await session.execute(query.order_by(col(CourseSession.starts_at)))).scalars().all()
    counted = await _counts_of(session, [r.id for r in rows])
    return [session_public(r, counted.get(r.id, Counter()), training) for r in rows]


async def _counts_of(session: AsyncSession, session_ids: Sequence[str]) -> dict[str, Counter[str]]:
    if not session_ids:
        return {}
    query = (
        select(Enrolment.session_id, Enrolment.status, func.count())
        .where(col(Enrolment.session_id).in_(session_ids))
        .group_by(col(Enrolment.session_id), col(Enrolment.status))
    )
    counted: dict[str, Counter[str]] = {}
    for session_id, status, count in (await session.execute(query)).all():
        counted.setdefault(session_id, Counter())[status] = count
    return counted


def session_public(row: CourseSession, counts: Counter[str], training: Training) -> SessionPublic:
    calendar = training.calendar
    return SessionPublic(
        id=row.id,
        course_id=row.course_id,
        starts_at=row.starts_at.astimezone(UTC),
        ends_at=row.ends_at.astimezone(UTC),
        starts_local=row.starts_at.astimezone(calendar.timezone).isoformat(),
        location=row.location,
        link=row.link,
        capacity=row.capacity,
        confirmed=counts["confirmed"],
        waitlisted=counts["waitlisted"],
        seats_left=max(row.capacity - counts["confirmed"], 0),
        enrolment_closes_at=domain.enrolment_cutoff(
            calendar, row.starts_at, training.settings.training_enrolment_cutoff_business_days
        ),
    )
