"""The sender: a background task that turns pending deliveries into e-mails.

For each due delivery it resolves the recipient with the owning service, renders the template in
the recipient's language, hands the message to the SMTP server, and then, in one transaction, marks
the delivery sent and writes `notification-sent` to the outbox. A failure that retrying can fix
(server or owner unavailable) keeps the delivery pending with a growing delay; one that cannot (an
unknown recipient, a refused address) marks it failed.

Delivery is at least once: if the process stops after the server accepted a message but before the
delivery is marked sent, the message goes again with the same `Message-ID`. One sender runs per
service instance; running several instances needs a claim on the delivery first.
"""

from __future__ import annotations

import asyncio
import logging

from jinja2 import TemplateNotFound
from prometheus_client import Counter
from sqlalchemy import or_, update
from sqlmodel import col, select

from services.notifications.domain import choose_language, retry_delay, send_now
from services.notifications.mail import Mailer, PermanentMailError, compose, hub_name
from services.notifications.models import Delivery
from services.notifications.recipients import (
    Recipient,
    RecipientDirectory,
    RecipientUnknown,
)
from services.notifications.rendering import Templates
from shared.contracts import derived_event_id
from shared.contracts.notifications import NotificationSent, RecipientRef
from shared.logging import event_context
from shared.service import ServiceContext

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "edih_notification_deliveries_total", "Delivery attempts, by channel and outcome",
    ["channel", "outcome"],
)

# Errors that no retry can fix: the delivery is marked failed.
PERMANENT_ERRORS = (RecipientUnknown, PermanentMailError, TemplateNotFound)


class Sender:
    """Sends due deliveries; `wake()` makes it look at once instead of at its next poll."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        batch_size: int = 20,
        poll_seconds: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.mailer = Mailer(ctx.settings)
        self.templates = Templates()
        self.directory: RecipientDirectory | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self.directory = RecipientDirectory(self.ctx.settings)
        self._task = asyncio.create_task(self._run(), name="notifications-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self.directory is not None:
            await self.directory.close()
            self.directory = None

    async def _run(self) -> None:
        while True:
            try:
                while await self.send_due():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notifications sender failed; retrying")
            # Polling also catches retries whose delay has passed; waking catches new requests.
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self) -> int:
        """Attempt one batch of due deliveries; returns how many were attempted."""
        now = self.ctx.clock.now()
        async with self.ctx.db.reading() as session:
            rows = (
                await session.execute(
                    select(Delivery)
                    .where(
                        col(Delivery.status) == "pending",
                        or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
                    )
                    .order_by(col(Delivery.id))
                    .limit(self.batch_size)
                )
            ).scalars().all()
        due = [d for d in rows if send_now(d.urgency)]  # type: ignore[arg-type]
        await asyncio.gather(*(self.deliver(d) for d in due))
        return len(due)

    async def deliver(self, delivery: Delivery) -> None:
        """One attempt at one delivery; its outcome is recorded, never raised."""
        assert self.directory is not None, "the sender is not started"
        with event_context(company_id=delivery.company_id):
            ref = RecipientRef(
                service=delivery.recipient_service, kind=delivery.recipient_kind,
                id=delivery.recipient_ref_id,
            )
            try:
                recipient = await self.directory.resolve(ref)
                language = choose_language(recipient.language)
                message = compose(
                    self.ctx.settings,
                    notification_id=delivery.notification_id,
                    to_name=recipient.name,
                    to_email=recipient.email or "",
                    language=language,
                    rendered=self.templates.render(
                        delivery.message_type, language, name=recipient.name,
                        hub_name=hub_name(self.ctx.settings), context=delivery.context,
                    ),
                    at=self.ctx.clock.now(),
                )
                await self.mailer.send(message)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                await self._record_failure(delivery, error, permanent=isinstance(error, PERMANENT_ERRORS))
                return
            await self._record_sent(delivery, recipient, language)

    async def _record_sent(self, delivery: Delivery, recipient: Recipient, language: str) -> None:
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as session:
            result = await session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery.id, col(Delivery.status) == "pending")
                .values(
                    status="sent", sent_at=now, attempts=col(Delivery.attempts) + 1,
                    recipient_email=recipient.email, language=language,
                    last_error=None, next_attempt_at=None,
                )
            )
            if result.rowcount:  # type: ignore[attr-defined]
                await self.ctx.outbox.add(
                    session,
                    "notification-sent",
                    NotificationSent(
                        hub_id=delivery.hub_id, company_id=delivery.company_id,
                        notification_id=delivery.notification_id,
                        message_type=delivery.message_type,  # type: ignore[arg-type]
                        channel="email", sent_at=now,
                    ),
                    event_id=derived_event_id("notification-sent", delivery.notification_id),
                )
        self.ctx.relay.notify()
        DELIVERIES.labels("email", "sent").inc()
        log.info("sent %s %s", delivery.message_type, delivery.notification_id)

    async def _record_failure(self, delivery: Delivery, error: Exception, *, permanent: bool) -> None:
        attempts = delivery.attempts + 1
        reason = f"{type(error).__name__}: {error}"[:2000]
        values: dict[str, object] = {"attempts": attempts, "last_error": reason}
        if permanent:
            values |= {"status": "failed", "next_attempt_at": None}
        else:
            values["next_attempt_at"] = self.ctx.clock.now() + retry_delay(attempts)
        async with self.ctx.db.transaction() as session:
            await session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery.id, col(Delivery.status) == "pending")
                .values(**values)
            )
        DELIVERIES.labels("email", "failed" if permanent else "retry").inc()
        if permanent:
            log.error("delivery %s failed: %s", delivery.notification_id, reason)
        else:
            log.warning("delivery %s attempt %s failed, retrying: %s", delivery.notification_id,
                        attempts, reason)
