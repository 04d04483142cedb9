"""One attempt at one delivery over its channel: the e-mail to the recipient, or the webhook post.

For an e-mail it resolves the recipient with the owning service (one the owner no longer knows after
erasing the company's contacts: `Cancelled`), checks the opt-out of a non-essential message by the
person resolved now (the digest of their address: `Skipped`), renders the template in their
language (with a signed unsubscribe link where the message is non-essential) and hands it to the
SMTP server. For a webhook it renders the Dutch text and posts the signed payload. Errors are
raised for the sender to record; those in `PERMANENT_ERRORS` no retry can fix."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from services.notifications import domain, opt_outs, unsubscribe, webhooks
from services.notifications.mail import Mailer, PermanentMailError, compose
from services.notifications.models import ContactErasure, Delivery, Status
from services.notifications.recipients import RecipientDirectory, RecipientGone, RecipientUnknown
from services.notifications.rendering import RenderError, templates_for
from shared.clock import Clock
from shared.contracts.notifications import RecipientRef
from shared.service import ServiceContext
from shared.settings import hub_name

PERMANENT_ERRORS = (RecipientUnknown, PermanentMailError, RenderError, webhooks.PermanentWebhookError)


class Withheld(Exception):
    """The message is rightly not sent: nothing to retry, no one to alert. `status` says why."""

    status: Status

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Skipped(Withheld):
    """The recipient opted out of this non-essential message."""

    status: Status = "skipped"


class Cancelled(Withheld):
    """The owner no longer knows the recipient, after it erased the company's contacts."""

    status: Status = "cancelled"


class Dispatcher:
    """Sends one delivery; holds the SMTP, recipients and webhook clients."""

    def __init__(self, ctx: ServiceContext, real_clock: Clock) -> None:
        self.ctx = ctx
        self.real_clock = real_clock
        self.mailer = Mailer(ctx.settings)
        self.templates = templates_for(ctx.settings.business_timezone)
        self.directory = RecipientDirectory(ctx.settings)
        self.webhooks = webhooks.WebhookClient(ctx.settings)

    async def close(self) -> None:
        await self.directory.close()
        await self.webhooks.close()

    async def send(self, delivery: Delivery) -> tuple[str | None, str]:
        """Send `delivery`; returns the address it went to (None for a webhook) and the language."""
        if delivery.channel == "webhook":
            await self.post(delivery)
            return None, domain.DEFAULT_LANGUAGE
        return await self.mail(delivery)

    async def mail(self, delivery: Delivery) -> tuple[str, str]:
        ref = RecipientRef(service=delivery.recipient_service, kind=delivery.recipient_kind,
                           id=delivery.recipient_ref_id)
        optional = domain.policy(delivery.message_type, delivery.urgency).may_opt_out
        try:
            recipient = await self.directory.resolve(ref)
        except RecipientGone as gone:
            if erased := await self.erasure(delivery.company_id, ref.service):
                raise Cancelled(f"{gone}: the company's contacts were erased on {erased:%Y-%m-%d}") from None
            raise
        language = domain.choose_language(recipient.language)
        link = None
        if optional:
            # The opt-out is the person's: the one at the address the reference resolves to now.
            digest = domain.address_digest(self.ctx.settings.jwt_secret, recipient.email or "")
            if opt_out := await self.opt_out(ref, digest):
                raise Skipped(f"the recipient opted out of non-essential messages (opt-out {opt_out})")
            token = unsubscribe.issue(
                self.ctx.settings, ref, company_id=delivery.company_id, language=language,
                notification_id=delivery.notification_id, now=self.real_clock.now(),
                address_digest=digest, region=delivery.region,
            )
            link = unsubscribe.link(self.ctx.settings, token)
        message = compose(
            self.ctx.settings,
            notification_id=delivery.notification_id,
            to_name=recipient.name,
            to_email=recipient.email or "",
            language=language,
            rendered=self.templates.render(
                delivery.message_type, language, name=recipient.name,
                hub_name=hub_name(self.ctx.settings), context=delivery.context,
                company_id=delivery.company_id, unsubscribe_url=link,
            ),
            at=self.ctx.clock.now(),
            unsubscribe_url=link,
        )
        await self.mailer.send(message)
        return recipient.email or "", language

    async def post(self, delivery: Delivery) -> None:
        url = webhooks.find_receiver(self.ctx.settings, delivery.message_type, delivery.webhook_ref or "")
        rendered = self.templates.render(
            delivery.message_type, domain.DEFAULT_LANGUAGE, name="", hub_name=hub_name(self.ctx.settings),
            context=delivery.context, company_id=delivery.company_id,
        )
        payload = {
            "notification_id": delivery.notification_id, "hub_id": delivery.hub_id,
            "company_id": delivery.company_id, "message_type": delivery.message_type,
            "urgency": delivery.urgency, "context": delivery.context,
            "subject": rendered.subject, "text": rendered.text,
        }
        await self.webhooks.post(url, payload, delivery_key=delivery.delivery_key,
                                 timestamp=int(self.real_clock.now().timestamp()))

    async def erasure(self, company_id: str, owner: str) -> datetime | None:
        """When `owner` erased the company's contacts, if it did."""
        async with self.ctx.db.reading() as session:
            return await session.scalar(
                select(ContactErasure.erased_at).where(
                    col(ContactErasure.company_id) == company_id, col(ContactErasure.service) == owner,
                )
            )

    async def opt_out(self, ref: RecipientRef, address_digest: str) -> int | None:
        """The id of an opt-out holding back non-essential messages to `ref` at this address."""
        async with self.ctx.db.reading() as session:
            found = await opt_outs.holding_back(session, ref, address_digest)
            return found[0].id if found else None
