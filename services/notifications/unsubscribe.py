"""The links of opt-outs: a signed, expiring token to unsubscribe, and one to undo it.

Both are JWTs signed with the hub's key, each with its own `purpose` (`unsubscribe`, `resubscribe`),
so that neither a staff token nor the other link can stand in for one (and they carry no role, so
they open no API). Expiry is real time, like every token's, also in a demo running on a fixed clock.

An unsubscribe link, in a non-essential message, names the recipient by reference (owning service,
kind, id, company), the keyed digest of the address the message went to (`domain.address_digest`:
never the address) and the message's region. A link sent before opt-outs knew their person has
neither: `address_digest` is None, and the opt-out takes them from the delivery log. A resubscribe
link, on the page that confirms an opt-out, carries the same claims but the region (nothing it
undoes needs one), with the person the opt-out was recorded for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import jwt

from shared.contracts.notifications import RecipientRef
from shared.settings import Settings

PURPOSE = "unsubscribe"
RESUBSCRIBE = "resubscribe"


@dataclass(frozen=True)
class UnsubscribeRequest:
    """What a valid link says: whose opt-out (by reference, and the person by address digest, or
    `models.WHOLE_ROLE` in a resubscribe link undoing an opt-out of the role), about which company and
    (in an unsubscribe link) region, in which language to answer, through which message's link."""

    recipient: RecipientRef
    company_id: str
    language: str
    notification_id: str | None
    address_digest: str | None = None
    region: str | None = None


def issue(
    settings: Settings, recipient: RecipientRef, *, company_id: str, language: str,
    notification_id: str | None, now: datetime, address_digest: str, region: str | None,
) -> str:
    """The token of an unsubscribe link in the message `notification_id`, for the person with
    `address_digest` in `region`."""
    return _sign(settings, PURPOSE, recipient, company_id=company_id, language=language,
                 notification_id=notification_id, address_digest=address_digest, now=now, reg=region)


def _sign(
    settings: Settings, purpose: str, recipient: RecipientRef, *, company_id: str, language: str,
    notification_id: str | None, address_digest: str, now: datetime, **claims: str | None,
) -> str:
    """A link's token: its purpose, hub, recipient and person, `claims` of its own, and its expiry."""
    expiry = now + timedelta(days=settings.notification_unsubscribe_ttl_days)
    return jwt.encode(
        {
            "purpose": purpose,
            "hub": settings.hub_id,
            "svc": recipient.service,
            "kind": recipient.kind,
            "rid": recipient.id,
            "cid": company_id,
            "lang": language,
            "nid": notification_id,
            "adr": address_digest,
            **claims,
            "iat": int(now.timestamp()),
            "exp": int(expiry.timestamp()),
        },
        settings.jwt_secret, algorithm=settings.jwt_algorithm,
    )


def read(settings: Settings, token: str, purpose: str = PURPOSE) -> UnsubscribeRequest:
    """The request a valid link of `purpose` carries; raises jwt.InvalidTokenError for any other
    token."""
    claims = jwt.decode(
        token, settings.jwt_secret, algorithms=[settings.jwt_algorithm],
        options={"require": ["purpose", "exp", "svc", "kind", "rid", "cid"]},
    )
    if claims["purpose"] != purpose:
        raise jwt.InvalidTokenError(f"not a {purpose} link")
    if claims.get("hub") != settings.hub_id:
        raise jwt.InvalidTokenError("a link of another hub")
    return UnsubscribeRequest(
        recipient=RecipientRef(service=claims["svc"], kind=claims["kind"], id=claims["rid"]),
        company_id=claims["cid"],
        language=claims.get("lang", "nl"),
        notification_id=claims.get("nid"),
        address_digest=claims.get("adr"),
        region=claims.get("reg"),
    )


def resubscribe_token(settings: Settings, request: UnsubscribeRequest, *, person: str, now: datetime) -> str:
    """The token of the link that undoes the opt-out `request` recorded, for `person` (an address
    digest, or `WHOLE_ROLE`)."""
    return _sign(settings, RESUBSCRIBE, request.recipient, company_id=request.company_id,
                 language=request.language, notification_id=request.notification_id,
                 address_digest=person, now=now)


def link(settings: Settings, token: str) -> str:
    """The public URL of the unsubscribe page for `token`."""
    return _url(settings, "unsubscribe", token)


def resubscribe_link(settings: Settings, token: str) -> str:
    """The public URL that undoes an opt-out with `token`."""
    return _url(settings, "resubscribe", token)


def _url(settings: Settings, path: str, token: str) -> str:
    base = (settings.notification_public_url or settings.url_of("notifications")).rstrip("/")
    return f"{base}/{path}?{urlencode({'token': token})}"
