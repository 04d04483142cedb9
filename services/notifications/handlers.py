"""Event handlers of notifications: a requested notification becomes a pending delivery.

Each handler runs in the consumer's transaction together with its inbox row. A notification id
seen before (the same command again, or a new command repeating an old request) changes nothing,
so a repeated request never sends twice.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.models import Delivery
from shared.contracts import CloudEvent
from shared.contracts.notifications import NotificationRequested
from shared.db import insert_ignoring_duplicates
from shared.inbox import Handler


async def record_request(session: AsyncSession, event: CloudEvent, data: NotificationRequested) -> None:
    await insert_ignoring_duplicates(
        session,
        Delivery,
        {
            "notification_id": data.notification_id,
            "hub_id": data.hub_id,
            "company_id": data.company_id,
            "message_type": data.message_type,
            "urgency": data.urgency,
            "channel": "email",
            "recipient_service": data.recipient.service,
            "recipient_kind": data.recipient.kind,
            "recipient_ref_id": data.recipient.id,
            "context": data.context,
            "status": "pending",
            "attempts": 0,
            # The moment of the request, so a command republished after a broker loss keeps it.
            "created_at": event.time if event.time.tzinfo else event.time.replace(tzinfo=UTC),
        },
        conflict_on=["notification_id"],
    )


HANDLERS: dict[str, Handler] = {"notification-requested": record_request}
