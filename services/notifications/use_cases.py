"""What staff do with notifications, without HTTP: read the delivery log and the opt-outs (an
advisor sees its regions only), and undo an opt-out with a reason. Each takes a session and the
staff member and raises `shared.errors` for what it refuses; routes and pages call them alike."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.notifications import domain, opt_outs
from services.notifications.models import (
    AttemptPublic,
    Delivery,
    DeliveryAttempt,
    DeliveryPublic,
    OptOut,
    OptOutPublic,
    OptOutWithdrawal,
    Status,
)
from shared.auth import Principal
from shared.clock import Clock
from shared.errors import Conflict, Forbidden, NotFound

log = logging.getLogger(__name__)


def _visible(model: type[Delivery] | type[OptOut], who: Principal, company_id: str | None, limit: int,
             oldest_first_by: Any) -> Select[Any]:
    """The rows of `model` the staff member may see: a company's oldest first, or the newest
    `limit` of all companies. An advisor sees those of their regions only; outside them a company's
    rows read as absent, as in the console, and a row without a region is for administrators and
    viewers, since nothing says which advisor may see it."""
    query: Select[Any] = select(model)
    if who.role == "advisor":
        query = query.where(col(model.region).in_(who.regions))
    if company_id is None:
        return query.order_by(col(model.id).desc()).limit(limit)
    return query.where(col(model.company_id) == company_id).order_by(col(oldest_first_by),
                                                                      col(model.id)).limit(limit)


async def list_deliveries(
    session: AsyncSession, who: Principal, *, company_id: str | None, status: Status | None, limit: int
) -> list[DeliveryPublic]:
    """Messages with their status and every attempt, as `_visible` selects them."""
    query = _visible(Delivery, who, company_id, limit, Delivery.created_at)
    if status is not None:
        query = query.where(col(Delivery.status) == status)
    rows = (await session.execute(query)).scalars().all()
    attempts = (await session.execute(
        select(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id).in_([d.id for d in rows]))
        .order_by(col(DeliveryAttempt.id))
    )).scalars().all()
    history: dict[int, list[AttemptPublic]] = {}
    for attempt in attempts:
        history.setdefault(attempt.delivery_id, []).append(
            AttemptPublic.model_validate(attempt, from_attributes=True))
    return [_public(d, history.get(d.id or 0, [])) for d in rows]


def _public(delivery: Delivery, history: list[AttemptPublic]) -> DeliveryPublic:
    policy = domain.policy(delivery.message_type, delivery.urgency)
    return DeliveryPublic.model_validate(delivery, from_attributes=True, update={
        "history": history, "timing": policy.timing, "essential": policy.essential,
    })


async def list_opt_outs(
    session: AsyncSession, who: Principal, *, company_id: str | None, limit: int
) -> list[OptOutPublic]:
    """Opt-outs with whether and how they were undone, as `_visible` selects them."""
    rows = await session.execute(_visible(OptOut, who, company_id, limit, OptOut.opted_out_at))
    return [opt_outs.public(row) for row in rows.scalars().all()]


async def withdraw_opt_out(
    session: AsyncSession, opt_out_id: int, command: OptOutWithdrawal, *, staff: Principal, clock: Clock
) -> OptOutPublic:
    """Undo an opt-out by staff, with the reason: the person gets non-essential messages again.
    An advisor may do it for the opt-outs of its regions only; undone already is a conflict."""
    opt_out = await session.get(OptOut, opt_out_id)
    if opt_out is None:
        raise NotFound(f"no opt-out {opt_out_id}")
    if not staff.sees(opt_out.region):
        where = f"of region {opt_out.region}" if opt_out.region else "of no region"
        raise Forbidden(f"opt-out {opt_out_id} is {where}, outside your regions: an administrator "
                        "may withdraw it")
    withdrawn = await opt_outs.withdraw(session, opt_out_id, at=clock.now(), source="staff",
                                        by=staff.subject, reason=command.reason)
    await session.refresh(opt_out)
    if not withdrawn:
        by = opt_out.withdrawn_by or "the person, through their link"
        raise Conflict(f"opt-out {opt_out_id} was withdrawn already, "
                       f"on {opt_out.withdrawn_at:%Y-%m-%d %H:%M} UTC by {by}")
    log.info("%s withdrew opt-out %s of company %s", staff.subject, opt_out_id, opt_out.company_id)
    return opt_outs.public(opt_out)
