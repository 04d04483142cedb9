"""Resolving a recipient named by reference: the owning service answers with name, e-mail, language.

Events never carry personal data, so a delivery asks the owner at send time:
`GET {owner url}/internal/recipients/{kind}/{id}` with a service token.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from shared.auth import issue_token
from shared.contracts.notifications import RecipientRef
from shared.settings import Settings


class RecipientUnavailable(Exception):
    """The owning service could not answer now (down, timing out, 5xx): try again later."""


class RecipientUnknown(Exception):
    """The owner does not know this recipient or has no e-mail address for it: retrying won't help."""


class RecipientGone(RecipientUnknown):
    """The owner answered 404 or 410: it knows no such recipient (any more)."""


class Recipient(BaseModel):
    """The owner's answer; personal data, kept in memory only for the send."""

    name: str = ""
    email: str | None = None
    language: str | None = None


class RecipientDirectory:
    """Asks the owning services about recipients, over one shared HTTP client."""

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self.client.aclose()

    async def resolve(self, ref: RecipientRef) -> Recipient:
        try:
            base = self.settings.url_of(ref.service)
        except AttributeError:
            raise RecipientUnknown(f"no URL is configured for service {ref.service!r}") from None
        url = f"{base}/internal/recipients/{quote(ref.kind, safe='')}/{quote(ref.id, safe='')}"
        # The system clock, not the service's: a token's expiry is about real time, even in a demo
        # that runs on a fixed clock.
        token = issue_token(self.settings, "notifications", "service")
        try:
            response = await self.client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as error:
            raise RecipientUnavailable(
                f"{ref.service} unreachable: {type(error).__name__}: {error}"
            ) from None
        if response.status_code in (404, 410):
            raise RecipientGone(f"{ref.service} knows no {ref.kind} {ref.id!r} ({response.status_code})")
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise RecipientUnavailable(f"{ref.service} answered {response.status_code}")
        if response.status_code != 200:
            # 401/403 mean a misconfigured key or role; worth retrying once the deployment is fixed.
            raise RecipientUnavailable(
                f"{ref.service} refused the lookup: {response.status_code} {response.text[:200]}"
            )
        try:
            recipient = Recipient.model_validate_json(response.content)
        except ValidationError as error:
            raise RecipientUnavailable(f"{ref.service} answered an unreadable recipient: {error}") from None
        if not recipient.email:
            raise RecipientUnknown(f"{ref.kind} {ref.id!r} has no e-mail address")
        return recipient
