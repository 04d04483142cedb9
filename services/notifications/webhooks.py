"""Webhooks for staff tools: a JSON POST signed with HMAC-SHA256, so a receiver can check it.

Where they go: `EDIH_NOTIFICATION_WEBHOOKS` maps a message type to receiver URLs (JSON, e.g.
`{"staff-alert": ["https://chat.example/hook"], "staff-escalation": [...]}`); every request of that
type is also POSTed to each URL listed, as a delivery of its own with retries. The delivery log
stores a digest of the URL and its scheme and host only, since such URLs often embed a secret.

The signature: `X-EDIH-Timestamp: <unix seconds>` and `X-EDIH-Signature: sha256=<hex>`, where hex
is HMAC-SHA256 with `EDIH_NOTIFICATION_WEBHOOK_SECRET` over `f"{timestamp}.{body}"` (the raw body
bytes). A receiver recomputes it, compares in constant time, and refuses a timestamp older than a
few minutes (a replay). `X-EDIH-Delivery` is the same on every retry of one delivery, so a receiver
can drop a copy it already has.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.settings import Settings


class WebhookUnavailable(Exception):
    """The receiver did not take the message now (down, timing out, 5xx, 408, 429): retry."""


class PermanentWebhookError(Exception):
    """The receiver refused the message (another 4xx), or the webhook is no longer configured."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `f"{timestamp}.{body}"` with `secret`."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes, delivery_key: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-EDIH-Timestamp": str(timestamp),
        "X-EDIH-Signature": f"sha256={signature(secret, timestamp, body)}",
        "X-EDIH-Delivery": delivery_key,
    }


def webhook_ref(url: str) -> str:
    """A stable short name of a receiver URL, stored instead of the URL itself."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def display(url: str) -> str:
    """Scheme and host of `url`: enough for staff to see where it went, without its secrets."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def receivers(settings: Settings, message_type: str) -> list[str]:
    return list(settings.notification_webhooks.get(message_type, []))


def find_receiver(settings: Settings, message_type: str, ref: str) -> str:
    """The configured URL whose digest is `ref`; PermanentWebhookError when it was removed."""
    for url in receivers(settings, message_type):
        if webhook_ref(url) == ref:
            return url
    raise PermanentWebhookError("the webhook is no longer configured")


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class WebhookClient:
    """POSTs signed payloads over one shared HTTP client."""

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self.client.aclose()

    async def post(self, url: str, payload: dict[str, Any], *, delivery_key: str, timestamp: int) -> None:
        body = encode(payload)
        headers = signed_headers(self.settings.notification_webhook_secret, timestamp, body, delivery_key)
        try:
            response = await self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise WebhookUnavailable(f"{display(url)} unreachable: {type(error).__name__}") from None
        if response.status_code < 300:
            return
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise WebhookUnavailable(f"{display(url)} answered {response.status_code}")
        raise PermanentWebhookError(f"{display(url)} refused: {response.status_code}")
