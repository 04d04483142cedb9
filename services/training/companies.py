"""The companies training has heard of, by their events: first seen (a command may come before
`company-registered`, and is stored), their region (advisors see their regions' companies), the
stage they left the programme at, their T0 scores; and forgetting their participants when intake
erased the company's contacts (the enrolments stay, anonymous, for the counts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.training.models import Enrolment, RecipientPublic, TrainingCompany
from shared import idempotency
from shared.auth import Principal
from shared.db import insert_ignoring_duplicates
from shared.errors import Conflict, DomainError, NotFound


async def seen(session: AsyncSession, hub_id: str, company_id: str, now: datetime) -> TrainingCompany:
    """The company's row, made when training first hears of it; locked for the caller's change."""
    await insert_ignoring_duplicates(
        session, TrainingCompany, {"id": company_id, "hub_id": hub_id, "first_seen_at": now}, ["id"]
    )
    company = await company_of(session, hub_id, company_id, for_update=True)
    assert company is not None  # inserted above or before
    return company


async def company_of(
    session: AsyncSession, hub_id: str, company_id: str, *, for_update: bool = False
) -> TrainingCompany | None:
    query = select(TrainingCompany).where(TrainingCompany.id == company_id, TrainingCompany.hub_id == hub_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def visible_company(
    session: AsyncSession,
    hub_id: str,
    company_id: str,
    staff: Principal | None,
    *,
    for_update: bool = False,
) -> TrainingCompany:
    """A company training knows (from its registration, or from a command for it) that the caller
    may see: an advisor only its regions' (so not one whose registration has not arrived yet, its
    region unknown); 404 otherwise, as for a company that does not exist."""
    company = await company_of(session, hub_id, company_id, for_update=for_update)
    if company is None or (staff is not None and not staff.sees(company.region)):
        raise NotFound(f"no company with id {company_id}")
    return company


def ensure_in_programme(company: TrainingCompany) -> None:
    if company.left_at_stage is not None:
        raise Conflict(f"company {company.id} has left the programme ({company.left_at_stage})")


async def forget_participants(session: AsyncSession, hub_id: str, company_id: str, now: datetime) -> int:
    """Erase the names, e-mail addresses and roles of the company's participants; returns how many
    enrolments held some. Their status and attendance stay: anonymous counts."""
    query = select(Enrolment).where(
        Enrolment.hub_id == hub_id, Enrolment.company_id == company_id, col(Enrolment.erased_at).is_(None)
    )
    erased = 0
    for enrolment in (await session.execute(query)).scalars():
        enrolment.participant_name = enrolment.email = enrolment.role = None
        enrolment.erased_at = now
        session.add(enrolment)
        erased += 1
    company = await seen(session, hub_id, company_id, now)
    company.contacts_erased_at = now
    session.add(company)
    # Answers kept for retried requests (Idempotency-Key) may hold the participants' data too.
    await idempotency.forget(session, company_id)
    return erased


async def of_regions(session: AsyncSession, hub_id: str, regions: list[str]) -> list[TrainingCompany]:
    query = select(TrainingCompany).where(
        TrainingCompany.hub_id == hub_id, col(TrainingCompany.region).in_(regions)
    )
    return list((await session.execute(query)).scalars().all())


class Gone(DomainError):
    """The recipient existed but is no longer reachable (cancelled, erased): notifications drops
    the message instead of retrying it."""

    status = 410


RECIPIENT_KINDS = ("participant",)


async def recipient(session: AsyncSession, hub_id: str, kind: str, recipient_id: str) -> RecipientPublic:
    if kind not in RECIPIENT_KINDS:
        raise NotFound(f"unknown recipient kind {kind!r}; training knows {', '.join(RECIPIENT_KINDS)}")
    enrolment = await session.get(Enrolment, recipient_id)
    if enrolment is None or enrolment.hub_id != hub_id:
        raise NotFound(f"no enrolment with id {recipient_id}")
    if enrolment.status == "cancelled" or enrolment.participant_name is None or enrolment.email is None:
        raise Gone(
            f"enrolment {recipient_id} is {enrolment.status}"
            + (" and its participant erased" if enrolment.erased_at else "")
        )
    return RecipientPublic(
        name=enrolment.participant_name, email=enrolment.email, language=enrolment.language
    )


async def personal_data(session: AsyncSession, hub_id: str, company_id: str, now: datetime) -> dict[str, Any]:
    """The company's participants as training holds them: one entry per enrolment."""
    company = await company_of(session, hub_id, company_id)
    query = (
        select(Enrolment)
        .where(Enrolment.hub_id == hub_id, Enrolment.company_id == company_id)
        .order_by(col(Enrolment.created_at), col(Enrolment.id))
    )
    participants = [
        {
            "enrolment_id": e.id,
            "session_id": e.session_id,
            "course_id": e.course_id,
            "participant_name": e.participant_name,
            "email": e.email,
            "role": e.role,
            "language": e.language,
            "status": e.status,
            "attendance": e.attendance,
            "enrolled_at": e.created_at.isoformat(),
            "erased_at": e.erased_at.isoformat() if e.erased_at else None,
        }
        for e in (await session.execute(query)).scalars().all()
    ]
    return {
        "service": "training",
        "company_id": company_id,
        "exported_at": now.isoformat(),
        "contacts_erased_at": company.contacts_erased_at.isoformat()
        if company and company.contacts_erased_at
        else None,
        "participants": participants,
    }
