"""Seats of a session: counting them, and giving freed seats to the waitlist in order.

Every change to a session's seats (an enrolment, a cancellation, a new capacity) first locks the
session's row (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer at a time), then counts
the enrolments: two concurrent enrolments are serialised there and never take the same last seat.
Counting enrolments, rather than keeping a counter, leaves nothing that can drift. Locks are taken
in one order: the company, then its sessions.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.training import reminders
from services.training.context import Training
from services.training.models import CourseSession, Enrolment
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.training import EnrolmentPromoted


async def counts(session: AsyncSession, session_id: str) -> Counter[str]:
    """Enrolments of the session by status (confirmed, waitlisted, cancelled)."""
    query = (
        select(Enrolment.status, func.count())
        .where(Enrolment.session_id == session_id)
        .group_by(col(Enrolment.status))
    )
    return Counter({status: count for status, count in (await session.execute(query)).all()})


async def last_waitlist_position(session: AsyncSession, session_id: str) -> int:
    query = select(func.max(Enrolment.waitlist_position)).where(Enrolment.session_id == session_id)
    return int(await session.scalar(query) or 0)


async def promote(
    session: AsyncSession, hub_id: str, clock: Clock, training: Training, row: CourseSession
) -> list[Enrolment]:
    """Give every free seat of the session (locked by the caller) to the first waitlisted
    participants, in the order they enrolled, until it started: `enrolment-promoted`, the message
    telling the participant and the reminder for each."""
    now = clock.now()
    if now >= row.starts_at:
        return []
    promoted: list[Enrolment] = []
    taken = (await counts(session, row.id))["confirmed"]
    query = (
        select(Enrolment)
        .where(Enrolment.session_id == row.id, Enrolment.status == "waitlisted")
        .order_by(col(Enrolment.waitlist_position))
        .limit(max(row.capacity - taken, 0))
    )
    for enrolment in (await session.execute(query)).scalars().all():
        enrolment.status, enrolment.waitlist_position, enrolment.confirmed_at = "confirmed", None, now
        session.add(enrolment)
        await training.outbox.add(
            session,
            "enrolment-promoted",
            EnrolmentPromoted(
                hub_id=hub_id,
                company_id=enrolment.company_id,
                enrolment_id=enrolment.id,
                session_id=row.id,
                course_id=row.course_id,
            ),
            event_id=derived_event_id("enrolment-promoted", enrolment.id),
        )
        await reminders.request_promotion_message(session, enrolment, row, training)
        await reminders.request_reminder(session, enrolment, row, training, now)
        promoted.append(enrolment)
    await session.flush()
    return promoted
