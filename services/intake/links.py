"""The company's questionnaire link, without HTTP: the signed, expiring token it carries, and
what a token says. The token is a JWT signed with the hub's key, with its own purpose claim (so it
is no bearer token, and no bearer token is a link), the company, the stage, the questionnaire
version and an expiry, checked against the service's (injectable) clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from pydantic import BaseModel

from services.intake import dma
from shared.clock import Clock
from shared.contracts.intake import AssessmentStage
from shared.settings import Settings

PURPOSE = "dma-questionnaire"
VERSION = "sme-v1"


class Invitation(BaseModel):
    """What a valid link token says."""

    company_id: str
    stage: AssessmentStage
    version: str
    expires_at: datetime


class LinkProblem(Exception):
    """A token that opens no questionnaire: `expired`, or `invalid` (forged, or no invitation);
    its message says which, for the caller."""

    def __init__(self, kind: Literal["invalid", "expired"], message: str) -> None:
        super().__init__(message)
        self.kind = kind


def issue_link_token(
    settings: Settings, clock: Clock, company_id: str, stage: AssessmentStage
) -> tuple[str, datetime]:
    now = clock.now().astimezone(UTC)
    expires = now + timedelta(days=settings.intake_questionnaire_link_ttl_days)
    claims = {
        "purpose": PURPOSE, "sub": company_id, "hub": settings.hub_id, "stage": stage, "ver": VERSION,
        "iat": int(now.timestamp()), "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm), expires


def check_link_token(settings: Settings, clock: Clock, token: str) -> Invitation:
    """The invitation of a valid link token; LinkProblem for any other token."""
    try:
        claims = jwt.decode(
            token, settings.jwt_secret, algorithms=[settings.jwt_algorithm],
            options={"require": ["purpose", "sub", "stage", "exp"], "verify_exp": False},
        )
    except jwt.InvalidTokenError as error:
        raise LinkProblem("invalid", f"invalid questionnaire link: {error}") from None
    version = claims.get("ver", VERSION)
    ours = claims["purpose"] == PURPOSE and claims.get("hub") == settings.hub_id
    if not ours or version not in dma.VERSIONS:
        raise LinkProblem("invalid", "invalid questionnaire link: not an invitation")
    # Expiry against the service's clock (injectable), not the machine's.
    if clock.now().timestamp() >= claims["exp"]:
        raise LinkProblem("expired", "this questionnaire link has expired")
    return Invitation(company_id=claims["sub"], stage=claims["stage"], version=version,
                      expires_at=datetime.fromtimestamp(claims["exp"], UTC))
