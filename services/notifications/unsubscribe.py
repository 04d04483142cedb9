"""Unsubscribe links: a signed, expiring token naming the recipient by reference.

The token is a JWT signed with the hub's key, with `purpose: unsubscribe` so that neither a staff
token nor any other signed link can stand in for it (and it carries no role, so it opens no API).
It holds references only (owning service, kind, id, company), never an address. Expiry is real
time, like every token's, also in a demo running on a fixed clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import jwt

from shared.contracts.notifications import RecipientRef
from shared.settings import Settings

PURPOSE = "unsubscribe"


@dataclass(frozen=True)
class UnsubscribeRequest:
    """What a valid token says: who opts out, about which company, in which language to answer."""

    recipient: RecipientRef
    company_id: str
    language: str
    notification_id: str | None


def issue(
    settings: Settings, recipient: RecipientRef, *, company_id: str, language: str,
    notification_id: str, now: datetime,
) -> str:
    claims = {
        "purpose": PURPOSE,
        "hub": settings.hub_id,
        "svc": recipient.service,
        "kind": recipient.kind,
        "rid": recipient.id,
        "cid": company_id,
        "lang": language,
        "nid": notification_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=settings.notification_unsubscribe_ttl_days)).timestamp()),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def read(settings: Settings, token: str) -> UnsubscribeRequest:
    """The request a valid token carries; raises jwt.InvalidTokenError for any other token."""
    claims = jwt.decode(
        token, settings.jwt_secret, algorithms=[settings.jwt_algorithm],
        options={"require": ["purpose", "exp", "svc", "kind", "rid", "cid"]},
    )
    if claims["purpose"] != PURPOSE:
        raise jwt.InvalidTokenError("not an unsubscribe link")
    if claims.get("hub") != settings.hub_id:
        raise jwt.InvalidTokenError("a link of another hub")
    return UnsubscribeRequest(
        recipient=RecipientRef(service=claims["svc"], kind=claims["kind"], id=claims["rid"]),
        company_id=claims["cid"],
        language=claims.get("lang", "nl"),
        notification_id=claims.get("nid"),
    )


def link(settings: Settings, token: str) -> str:
    """The public URL of the unsubscribe page for `token`."""
    base = (settings.notification_public_url or settings.url_of("notifications")).rstrip("/")
    return f"{base}/unsubscribe?{urlencode({'token': token})}"
