"""The sender: a background task that turns due deliveries into e-mails and webhook calls.

A delivery is due when its `send_at` has come on the service's clock and no backoff or claim holds
it (`retry_at`, real time). The sender first claims it (a conditional update, so two instances never
take the same row), then: a message of a business-hours type outside them moves to the next business
morning; otherwise `dispatch` sends it (or finds it opted out of, and it is skipped, or its recipient
erased, and it is cancelled). Success marks the delivery sent and writes `notification-sent` in one
transaction. A failure that retrying can fix waits with a growing delay; after the last attempt (a
setting), or at once for one that cannot be fixed, the delivery is failed, `notification-failed` is
written and staff are alerted (e-mail to the staff accounts of the settings, or else the console's
staff of the company's region or its administrators, and the webhooks for `staff-alert`).

Delivery is at least once towards the server, exactly once for the recipient in every case but one:
if the process stops after the server accepted a message and before it is marked sent, the claim
expires and the message goes again with the same `Message-ID` (or `X-EDIH-Delivery`), which mail
clients and receivers use to drop the copy. That case is not hidden: the next sender finds the
claim still set, records an `interrupted` attempt in the delivery's history and counts it in
`edih_notification_possible_repeats_total`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.notifications import domain
from services.notifications.dispatch import PERMANENT_ERRORS, Dispatcher, Withheld
from services.notifications.handlers import plan_request, send_time_for
from services.notifications.models import Delivery, DeliveryAttempt
from shared.background import WakeableLoop
from shared.clock import Clock, SystemClock
from shared.contracts import derived_event_id
from shared.contracts.notifications import (
    NotificationFailed,
    NotificationFailedV2,
    NotificationRequested,
    NotificationSent,
    NotificationSentV2,
    fact_version,
)
from shared.logging import event_context
from shared.service import ServiceContext

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "edih_notification_deliveries_total", "Delivery attempts, by channel and outcome",
    ["channel", "outcome"],
)

POSSIBLE_REPEATS = Counter(
    "edih_notification_possible_repeats_total",
    "Attempts begun again after a sender stopped without recording an outcome: the recipient may "
    "get the message twice, with the same Message-ID",
    ["channel"],
)

INTERRUPTED = ("the sender stopped before recording this attempt's outcome; the message may have "
               "reached the recipient, and the next attempt sends it again with the same Message-ID")


class Sender:
    """Sends due deliveries; `wake()` makes it look at once instead of at its next poll."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        batch_size: int = 20,
        poll_seconds: float = 1.0,
        real_clock: Clock | None = None,
    ) -> None:
        self.ctx = ctx
        # Longer than a resolve, a render and an SMTP or webhook timeout together.
        self.claim = timedelta(seconds=ctx.settings.notification_claim_seconds)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        # Backoff and claims are about real time (a mail server restart takes seconds), also in a
        # demo or test whose service clock stands still.
        self.real_clock = real_clock or SystemClock()
        self.dispatcher: Dispatcher | None = None
        # Polling also catches retries whose delay has passed; waking catches new requests.
        self._loop = WakeableLoop("notifications sender", self._send_all_due, poll_seconds)

    def wake(self) -> None:
        self._loop.wake()

    async def start(self) -> None:
        self.dispatcher = Dispatcher(self.ctx, self.real_clock)
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        if self.dispatcher is not None:
            await self.dispatcher.close()
            self.dispatcher = None

    async def _send_all_due(self) -> None:
        while await self.send_due():
            pass

    async def send_due(self) -> int:
        """Attempt one batch of due deliveries; returns how many were claimed."""
        now, real_now = self.ctx.clock.now(), self.real_clock.now()
        async with self.ctx.db.reading() as session:
            rows = (
                await session.execute(
                    select(Delivery)
                    .where(
                        col(Delivery.status) == "pending",
                        col(Delivery.send_at) <= now,
                        or_(col(Delivery.retry_at).is_(None), col(Delivery.retry_at) <= real_now),
                    )
                    .order_by(col(Delivery.send_at), col(Delivery.id))
                    .limit(self.batch_size)
                )
            ).scalars().all()
        claimed = [d for d in rows if await self._claim(d, real_now)]
        await asyncio.gather(*(self.deliver(d) for d in claimed))
        return len(claimed)

    async def _claim(self, delivery: Delivery, real_now: datetime) -> bool:
        """Take the delivery for one attempt. A claim found still set (`claimed_at`) is one whose
        sender stopped before recording an outcome, perhaps after the mail server had accepted the
        message: it is recorded as an interrupted attempt and counted, since the attempt now
        beginning may deliver the same Message-ID a second time."""
        interrupted = delivery.claimed_at is not None
        values: dict[str, object] = {"retry_at": real_now + self.claim, "claimed_at": real_now}
        if interrupted:
            values["attempts"] = col(Delivery.attempts) + 1
        async with self.ctx.db.transaction() as session:
            result = await session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery.id, col(Delivery.status) == "pending",
                       or_(col(Delivery.retry_at).is_(None), col(Delivery.retry_at) <= real_now))
                .values(**values)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            if interrupted:
                session.add(self._attempt(delivery, "interrupted", INTERRUPTED))
        if interrupted:
            delivery.attempts += 1
            POSSIBLE_REPEATS.labels(delivery.channel).inc()
            log.warning("delivery %s: the attempt begun at %s has no outcome; it goes again and may "
                        "reach the recipient twice with the same Message-ID",
                        delivery.delivery_key, delivery.claimed_at)
        return True

    async def deliver(self, delivery: Delivery) -> None:
        """One attempt at one claimed delivery; its outcome is recorded, never raised."""
        with event_context(company_id=delivery.company_id):
            now = self.ctx.clock.now()
            policy = domain.policy(delivery.message_type, delivery.urgency)
            if not policy.goes_at_once and not self.ctx.calendar.is_business_time(now):
                await self._postpone(delivery, policy, now)
                return
            assert self.dispatcher is not None, "the sender is not started"
            try:
                email, language = await self.dispatcher.send(delivery)
            except asyncio.CancelledError:
                raise
            except Withheld as withheld:
                await self._record_withheld(delivery, withheld)
                return
            except Exception as error:
                await self._record_failure(delivery, error, permanent=isinstance(error, PERMANENT_ERRORS))
                return
            await self._record_sent(delivery, email, language)

    async def _postpone(self, delivery: Delivery, policy: domain.MessagePolicy, now: datetime) -> None:
        """Due, but a retry or a late start reached it out of hours: the next business morning (with
        room under the daily cap, for a capped message)."""
        async with self.ctx.db.transaction() as session:
            send_at = await send_time_for(session, self.ctx, policy, delivery.company_id, now)
            await session.execute(
                update(Delivery).where(col(Delivery.id) == delivery.id, col(Delivery.status) == "pending")
                .values(send_at=send_at, retry_at=None, claimed_at=None)
            )

    @asynccontextmanager
    async def _transition(
        self, delivery: Delivery, outcome: str, error: str | None = None, **values: object
    ) -> AsyncIterator[AsyncSession | None]:
        """In one transaction: move a delivery that is still pending on (`values`, its claim
        released) and record the attempt; yields the session for what goes with it, or None when
        another sender or an erasure settled the delivery first."""
        async with self.ctx.db.transaction() as session:
            result = await session.execute(
                update(Delivery).where(col(Delivery.id) == delivery.id, col(Delivery.status) == "pending")
                .values(claimed_at=None, **values)
            )
            moved = bool(result.rowcount)  # type: ignore[attr-defined]
            if moved:
                session.add(self._attempt(delivery, outcome, error))
            yield session if moved else None

    def _attempt(self, delivery: Delivery, outcome: str, error: str | None = None) -> DeliveryAttempt:
        assert delivery.id is not None
        return DeliveryAttempt(delivery_id=delivery.id, number=delivery.attempts + 1,
                               at=self.ctx.clock.now(), outcome=outcome, error=error)

    async def _record_sent(self, delivery: Delivery, email: str | None, language: str) -> None:
        now = self.ctx.clock.now()
        channel = "webhook" if delivery.channel == "webhook" else "email"
        async with self._transition(
            delivery, "sent", status="sent", sent_at=now, attempts=col(Delivery.attempts) + 1,
            recipient_email=email, language=language, last_error=None, retry_at=None,
        ) as session:
            if session is not None:
                await self.ctx.outbox.add(
                    session,
                    "notification-sent",
                    fact_version(
                        NotificationSent, NotificationSentV2,
                        hub_id=delivery.hub_id, company_id=delivery.company_id,
                        notification_id=delivery.notification_id, message_type=delivery.message_type,
                        channel=channel, sent_at=now,
                    ),
                    event_id=derived_event_id("notification-sent", delivery.delivery_key),
                )
        self.ctx.relay.notify()
        DELIVERIES.labels(channel, "sent").inc()
        log.info("sent %s %s by %s", delivery.message_type, delivery.notification_id, channel)

    async def _record_withheld(self, delivery: Delivery, withheld: Withheld) -> None:
        """Skipped (opted out) or cancelled (erased): recorded with its reason, nothing published."""
        async with self._transition(delivery, withheld.status, withheld.reason, status=withheld.status,
                                    last_error=withheld.reason, retry_at=None):
            pass
        DELIVERIES.labels(delivery.channel, withheld.status).inc()
        log.info("%s %s %s: %s", withheld.status, delivery.message_type, delivery.notification_id,
                 withheld.reason)

    async def _record_failure(self, delivery: Delivery, error: Exception, *, permanent: bool) -> None:
        settings = self.ctx.settings
        attempts = delivery.attempts + 1
        reason = f"{type(error).__name__}: {error}"[:2000]
        failed = domain.gives_up(attempts, settings.notification_max_attempts, permanent=permanent)
        values: dict[str, object] = {"attempts": attempts, "last_error": reason}
        if failed:
            values |= {"status": "failed", "retry_at": None}
        else:
            values["retry_at"] = self.real_clock.now() + domain.retry_delay(
                attempts, timedelta(seconds=settings.notification_retry_base_seconds),
                timedelta(seconds=settings.notification_retry_cap_seconds),
            )
        async with self._transition(delivery, "failed" if failed else "retry", reason, **values) as session:
            if session is not None and failed:
                await self._fail(session, delivery, reason, attempts)
        if failed:
            self.ctx.relay.notify()
            self.wake()
        DELIVERIES.labels(delivery.channel, "failed" if failed else "retry").inc()
        if failed:
            log.error("delivery %s failed after %s attempts: %s", delivery.delivery_key, attempts, reason)
        else:
            log.warning("delivery %s attempt %s failed, retrying: %s", delivery.delivery_key,
                        attempts, reason)

    async def _fail(self, session: AsyncSession, delivery: Delivery, reason: str, attempts: int) -> None:
        """In the failing transaction: `notification-failed`, and the staff alert requested."""
        await self.ctx.outbox.add(
            session,
            "notification-failed",
            fact_version(
                NotificationFailed, NotificationFailedV2,
                hub_id=delivery.hub_id, company_id=delivery.company_id,
                notification_id=delivery.notification_id, message_type=delivery.message_type,
                reason=domain.scrub_personal_data(reason) or "", attempts=attempts,
            ),
            event_id=derived_event_id("notification-failed", delivery.delivery_key),
        )
        if not domain.alerts_staff(delivery.message_type):
            return
        alert_id = derived_event_id("staff-alert", delivery.delivery_key)
        context = {
            "failed_message_type": delivery.message_type, "failed_notification_id": delivery.notification_id,
            "attempts": str(attempts), "reason": domain.scrub_personal_data(reason) or "",
        }
        recipients = domain.alert_recipients(self.ctx.settings.notification_alert_staff_ids,
                                             delivery.region, delivery.hub_id)
        # One alert per failure: e-mailed to each recipient, posted once to each staff-alert webhook.
        for number, recipient in enumerate(recipients):
            request = NotificationRequested(
                hub_id=delivery.hub_id, company_id=delivery.company_id,
                notification_id=f"{alert_id}-{recipient.id}" if recipient.kind == "advisor" else alert_id,
                message_type="staff-alert", urgency="staff-alert", recipient=recipient, context=context,
                region=delivery.region,
            )
            await plan_request(session, self.ctx, request, requested_at=self.ctx.clock.now(),
                               with_webhooks=number == 0)
