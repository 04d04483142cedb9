"""Event handlers of notifications: a requested notification becomes pending deliveries; an erasure
removes the contacts' personal data from the delivery log and the opt-outs and is remembered.

Each handler runs in the consumer's transaction together with its inbox row. A notification id
seen before (the same command again, or a new command repeating an old request) changes nothing,
so a repeated request never sends twice. When a request is held (business hours, the daily reminder
cap), `notification-scheduled` says until when. Requests come as v1 or v2 (any message type); a type
not in the policy table is refused (a dead letter), and the facts go in the version of the type.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.notifications import domain, opt_outs, webhooks
from services.notifications.models import ContactErasure, Delivery, DeliveryAttempt
from shared.contracts import CloudEvent, derived_event_id
from shared.contracts.intake import ContactsErased
from shared.contracts.notifications import (
    NotificationRequested,
    NotificationRequestedV2,
    NotificationScheduled,
    NotificationScheduledV2,
    fact_version,
)
from shared.db import insert_ignoring_duplicates
from shared.inbox import HandlerTable, PermanentError
from shared.service import ServiceContext

log = logging.getLogger(__name__)


async def reminders_per_day(
    session: AsyncSession, ctx: ServiceContext, company_id: str, now: datetime
) -> dict[date, int]:
    """A company's e-mailed messages counted in the daily cap (reminders) that are due or sent,
    counted by their local day."""
    rows = await session.execute(
        select(Delivery.send_at).where(
            col(Delivery.company_id) == company_id,
            or_(col(Delivery.message_type).in_(domain.CAPPED_MESSAGE_TYPES),
                col(Delivery.urgency).in_(domain.CAPPED_URGENCIES)),
            col(Delivery.channel) == "email",
            col(Delivery.status).in_(["pending", "sent"]),
            col(Delivery.send_at) >= now - timedelta(days=1),
        )
    )
    counts: dict[date, int] = {}
    for (send_at,) in rows:
        day = domain.local_day(send_at, ctx.calendar)
        counts[day] = counts.get(day, 0) + 1
    return counts


async def send_time_for(
    session: AsyncSession, ctx: ServiceContext, policy: domain.MessagePolicy, company_id: str, now: datetime
) -> datetime:
    """When a message of `policy` to the company, due `now`, may go (`domain.send_time`); the
    company's reminders are counted only for a message under the daily cap."""
    counts = await reminders_per_day(session, ctx, company_id, now) if policy.capped else {}
    return domain.send_time(policy, now, ctx.calendar, cap=ctx.settings.notification_max_reminders_per_day,
                            reminders_per_day=counts)


async def plan_request(
    session: AsyncSession,
    ctx: ServiceContext,
    data: NotificationRequested,
    *,
    requested_at: datetime,
    with_webhooks: bool = True,
) -> None:
    """Record the deliveries of one request: the e-mail and one per webhook configured for its type
    (a request seen before records nothing)."""
    now = ctx.clock.now()
    policy = domain.policy(data.message_type, data.urgency)
    if overruled := domain.overruled(data.message_type, data.urgency):
        log.warning("notification %s: a %s requested as %r would go %s; its message type decides",
                    data.notification_id, data.message_type, data.urgency, ", ".join(overruled))
    # A request may name the moment it is for (a reminder the day before a session); the policy
    # (business hours, the daily cap) applies from then.
    due = max(now, data.not_before) if data.not_before is not None else now
    send_at = await send_time_for(session, ctx, policy, data.company_id, due)
    common = {
        "notification_id": data.notification_id,
        "hub_id": data.hub_id,
        "company_id": data.company_id,
        "region": data.region,
        "message_type": data.message_type,
        "urgency": data.urgency,
        "recipient_service": data.recipient.service,
        "recipient_kind": data.recipient.kind,
        "recipient_ref_id": data.recipient.id,
        "context": data.context,
        "status": "pending",
        "attempts": 0,
        "send_at": send_at,
        "created_at": requested_at,
    }
    rows = [{**common, "delivery_key": data.notification_id, "channel": "email"}]
    for url in webhooks.receivers(ctx.settings, data.message_type) if with_webhooks else []:
        ref = webhooks.webhook_ref(url)
        rows.append({**common, "delivery_key": f"{data.notification_id}#webhook-{ref}",
                     "channel": "webhook", "webhook_ref": ref, "destination": webhooks.display(url)})
    fresh = False
    for row in rows:
        inserted = await insert_ignoring_duplicates(session, Delivery, row, conflict_on=["delivery_key"])
        fresh = fresh or inserted
    if fresh and send_at > now:
        await ctx.outbox.add(
            session, "notification-scheduled",
            fact_version(
                NotificationScheduled, NotificationScheduledV2,
                hub_id=data.hub_id, company_id=data.company_id, notification_id=data.notification_id,
                message_type=data.message_type, send_at=send_at,
            ),
            event_id=derived_event_id("notification-scheduled", data.notification_id),
        )


async def erase_contacts(
    session: AsyncSession, ctx: ServiceContext, data: ContactsErased, owner: str
) -> None:
    """Clear the company's contacts' addresses and any address in error texts; cancel what is
    still pending to them (there is no one left to resolve); drop the address digests of their
    opt-outs; remember the erasure, so that a later message to a contact `owner` no longer knows is
    cancelled too."""
    now, company_id = ctx.clock.now(), data.company_id
    await insert_ignoring_duplicates(
        session, ContactErasure,
        {"hub_id": data.hub_id, "company_id": company_id, "service": owner, "erased_at": data.erased_at},
        conflict_on=["company_id", "service"],
    )
    await session.execute(
        update(Delivery)
        .where(col(Delivery.company_id) == company_id, col(Delivery.status) == "pending",
               col(Delivery.recipient_service) == owner)
        .values(status="cancelled", last_error="the company's contacts were erased")
    )
    deliveries = (
        await session.execute(select(Delivery).where(col(Delivery.company_id) == company_id))
    ).scalars().all()
    for delivery in deliveries:
        delivery.recipient_email = None
        delivery.last_error = domain.scrub_personal_data(delivery.last_error)
        delivery.erased_at = now
    ids = [d.id for d in deliveries]
    attempts = (
        await session.execute(select(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id).in_(ids)))
    ).scalars().all()
    for attempt in attempts:
        attempt.error = domain.scrub_personal_data(attempt.error)
    await opt_outs.forget_people(session, company_id, owner, now)
    await session.flush()


def make_handlers(ctx: ServiceContext) -> HandlerTable:
    """The handler table, bound to the service's context."""

    async def on_notification_requested(
        session: AsyncSession, event: CloudEvent, data: NotificationRequested
    ) -> None:
        # v1 requests name a v1 type; a v2 request may name any string: only the policy table's count.
        if data.message_type not in domain.MESSAGE_POLICIES:
            raise PermanentError(f"unknown message type {data.message_type!r}: not in notifications' "
                                 "policy table")
        # The moment of the request, so a command republished after a broker loss keeps it.
        requested_at = event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC)
        await plan_request(session, ctx, data, requested_at=requested_at)

    async def on_contacts_erased(session: AsyncSession, event: CloudEvent, data: ContactsErased) -> None:
        # The publisher owns the contacts: `source` is /<hub id>/<service>.
        await erase_contacts(session, ctx, data, owner=event.source.rsplit("/", 1)[-1])

    return {
        NotificationRequested: on_notification_requested,
        NotificationRequestedV2: on_notification_requested,
        ContactsErased: on_contacts_erased,
    }
