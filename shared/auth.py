"""JWT bearer authentication with roles: admin, advisor (limited to its regions), viewer, service.

Tokens are signed with the hub's key (HS256 unless configured otherwise). `require(...)` is the
FastAPI dependency an endpoint uses to demand a role; it answers 401 without a valid token and 403
with the wrong role.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from shared.clock import Clock, SystemClock
from shared.settings import Settings

Role = Literal["admin", "advisor", "viewer", "service"]
ROLES: tuple[Role, ...] = ("admin", "advisor", "viewer", "service")


class Principal(BaseModel):
    """Who is calling: a staff member or a service."""

    # Who, as an id: a staff account's id (what actors and audit trails record), or a service's name.
    subject: str
    role: Role
    hub_id: str
    regions: list[str] = []
    # A staff member's e-mail address, to show and to write to; not an identity (it can change).
    email: str | None = None

    def sees(self, region: str | None) -> bool:
        """Advisors work on the companies of their regions; admins, viewers and services on the hub."""
        return self.role != "advisor" or (region is not None and region in self.regions)


def issue_token(
    settings: Settings,
    subject: str,
    role: Role,
    *,
    regions: list[str] | None = None,
    email: str | None = None,
    ttl: timedelta | None = None,
    clock: Clock | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    now = (clock or SystemClock()).now()
    claims = {
        "sub": subject,
        "role": role,
        "hub": settings.hub_id,
        "regions": regions or [],
        **({"email": email} if email else {}),
        "iat": int(now.timestamp()),
        "exp": int((now + (ttl or timedelta(minutes=settings.token_ttl_minutes))).timestamp()),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def decode_token(settings: Settings, token: str) -> Principal:
    """The principal of a valid token; raises jwt.InvalidTokenError otherwise."""
    claims = jwt.decode(
        token,
        settings.jwt_secret,
        algorithms=[settings.jwt_algorithm],
        options={"require": ["sub", "role", "exp"]},
    )
    if claims.get("hub") != settings.hub_id:
        raise jwt.InvalidTokenError("token issued for another hub")
    return Principal(
        subject=claims["sub"], role=claims["role"], hub_id=claims["hub"],
        regions=claims.get("regions", []), email=claims.get("email"),
    )


_bearer = HTTPBearer(auto_error=False)


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency: the caller must present a valid token with one of `roles`."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a bearer token is required (edih token --role admin issues one)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        settings: Settings = request.app.state.settings
        try:
            principal = decode_token(settings, credentials.credentials)
        except jwt.InvalidTokenError as error:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                f"invalid bearer token: {error}",
                headers={"WWW-Authenticate": "Bearer"},
            ) from None
        if principal.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role!r} may not do this; needs one of {', '.join(roles)}",
            )
        return principal

    return dependency
