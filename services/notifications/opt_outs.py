"""Opt-out records: recording one through an unsubscribe link, finding those that hold back a
message at send time, undoing them (the person through the link on the confirmation page, or staff),
and forgetting their persons when the company's contacts are erased.

An opt-out belongs to the person whose address the message went to (its keyed digest, `applies_to`),
so a new primary contact at another address is not bound by the old one's. One recorded before
opt-outs knew their person applies to the whole role, as it always did. Undone or erased, it stays
as a fact in the history, applying to no one.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.notifications import domain
from services.notifications.models import WHOLE_ROLE, Delivery, OptOut, OptOutPublic, OptOutStatus
from services.notifications.unsubscribe import UnsubscribeRequest
from shared.contracts.notifications import RecipientRef
from shared.db import insert_ignoring_duplicates
from shared.settings import Settings


async def holding_back(session: AsyncSession, ref: RecipientRef, person: str) -> list[OptOut]:
    """The opt-outs in force that hold back non-essential messages to `ref` resolved to `person`
    (the digest of the address it resolves to): that person's, and one recorded for the whole role."""
    return list((await session.execute(
        select(OptOut).where(
            col(OptOut.recipient_service) == ref.service, col(OptOut.recipient_kind) == ref.kind,
            col(OptOut.recipient_ref_id) == ref.id,
            col(OptOut.applies_to).in_(dict.fromkeys([person, WHOLE_ROLE])),
        ).order_by(col(OptOut.id))
    )).scalars().all())


class LinkPerson(NamedTuple):
    """Whom an opt-out through a link applies to (an address digest, or `WHOLE_ROLE`), its region,
    and the opt-outs in force holding that person back."""

    person: str
    region: str | None
    held_back: list[OptOut]


async def link_person(session: AsyncSession, settings: Settings, link: UnsubscribeRequest) -> LinkPerson:
    """The person of an unsubscribe or resubscribe link, and what holds them back."""
    person, region = await _person_of(session, settings, link)
    return LinkPerson(person, region, await holding_back(session, link.recipient, person))


async def _person_of(
    session: AsyncSession, settings: Settings, link: UnsubscribeRequest
) -> tuple[str, str | None]:
    """Whom an opt-out through this link applies to, and its region: what the link carries (a
    resubscribe link always carries its person), or for an unsubscribe link sent before links
    carried them, the address and region of the delivery whose link it is (the whole role, as
    before, when that address is no longer in the log)."""
    if link.address_digest is not None:
        return link.address_digest, link.region
    delivery = None
    if link.notification_id is not None:
        # The e-mail's delivery key is the notification id.
        delivery = await session.scalar(
            select(Delivery).where(col(Delivery.delivery_key) == link.notification_id)
        )
    if delivery is None:
        return WHOLE_ROLE, None
    if delivery.recipient_email is None:
        return WHOLE_ROLE, delivery.region
    return domain.address_digest(settings.jwt_secret, delivery.recipient_email), delivery.region


async def record(
    session: AsyncSession, settings: Settings, link: UnsubscribeRequest, at: datetime
) -> str:
    """Record the opt-out an unsubscribe link asks for, unless one already holds the person back
    (repeating it changes nothing); returns whom it applies to."""
    person, region, held_back = await link_person(session, settings, link)
    ref = link.recipient
    if not held_back:
        await insert_ignoring_duplicates(
            session, OptOut,
            {"hub_id": settings.hub_id, "company_id": link.company_id, "region": region,
             "recipient_service": ref.service, "recipient_kind": ref.kind, "recipient_ref_id": ref.id,
             "scope": "role" if person == WHOLE_ROLE else "person", "applies_to": person,
             "opted_out_at": at, "source": "unsubscribe-link", "notification_id": link.notification_id},
            conflict_on=["recipient_service", "recipient_kind", "recipient_ref_id", "applies_to"],
        )
    return person


async def resubscribe(
    session: AsyncSession, settings: Settings, link: UnsubscribeRequest, at: datetime
) -> int:
    """The person of a resubscribe link wants non-essential messages again: undo every opt-out
    holding them back, recording when and through which message's link; returns how many (none
    when they were undone before)."""
    undone = 0
    for opt_out in (await link_person(session, settings, link)).held_back:
        assert opt_out.id is not None
        undone += await withdraw(session, opt_out.id, at=at, source="resubscribe-link",
                                 notification_id=link.notification_id)
    return undone


async def withdraw(
    session: AsyncSession, opt_out_id: int, *, at: datetime, source: str, by: str | None = None,
    reason: str | None = None, notification_id: str | None = None,
) -> bool:
    """Undo an opt-out that is not undone yet (True), recording when, how, by whom and why; False
    when it was undone before (nothing changes)."""
    result = await session.execute(
        update(OptOut).where(col(OptOut.id) == opt_out_id, col(OptOut.withdrawn_at).is_(None))
        .values(applies_to=None, withdrawn_at=at, withdrawn_by=by, withdrawal_source=source,
                withdrawal_reason=reason, withdrawal_notification_id=notification_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_people(session: AsyncSession, company_id: str, owner: str, at: datetime) -> None:
    """The company's contacts owned by `owner` were erased: their opt-outs keep no digest and apply
    to no one from now on (the person is gone), but stay as facts; an address a staff member wrote
    into a reason goes too."""
    ours = (col(OptOut.company_id) == company_id, col(OptOut.recipient_service) == owner)
    await session.execute(
        update(OptOut).where(*ours, col(OptOut.erased_at).is_(None)).values(applies_to=None, erased_at=at)
    )
    for opt_out in (await session.execute(
        select(OptOut).where(*ours, col(OptOut.withdrawal_reason).is_not(None))
    )).scalars():
        opt_out.withdrawal_reason = domain.scrub_personal_data(opt_out.withdrawal_reason)


def status(opt_out: OptOut) -> OptOutStatus:
    if opt_out.withdrawn_at is not None:
        return "withdrawn"
    return "erased" if opt_out.erased_at is not None else "active"


def public(opt_out: OptOut) -> OptOutPublic:
    return OptOutPublic.model_validate(opt_out, from_attributes=True, update={"status": status(opt_out)})
