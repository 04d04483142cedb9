"""Staff sign-in: scrypt password hashes, the session cookie, and the page dependency.

The cookie holds a JWT from `shared.auth.issue_token`, the same kind of token every API accepts,
so later pages can call other services on the signed-in person's behalf. The cookie is HttpOnly
(no script reads it) and SameSite=Lax (other sites cannot post forms with it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

import jwt
from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.console.domain import STAFF_ROLES
from services.console.models import StaffAccount
from shared.auth import Principal, Role, decode_token, issue_token
from shared.db import insert_ignoring_duplicates
from shared.service import ContextDep, ServiceContext
from shared.settings import Settings

COOKIE = "edih_console"
# scrypt cost: about 16 MiB and tens of milliseconds a guess (the parameters are kept in each hash).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    parts = ("scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest))
    return "$".join(parts)


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# Checked against when the e-mail address is unknown, so a refusal takes as long either way.
_NOBODY = hash_password(secrets.token_urlsafe(16))


async def authenticate(session: AsyncSession, email: str, password: str) -> StaffAccount | None:
    """The account whose e-mail and password these are, or None."""
    account = (
        await session.execute(select(StaffAccount).where(StaffAccount.email == email.strip().lower()))
    ).scalars().first()
    # scrypt is slow by design: off the event loop, so other requests go on meanwhile.
    ok = await asyncio.to_thread(verify_password, password, account.password_hash if account else _NOBODY)
    return account if ok and account is not None else None


async def staff_by_id(session: AsyncSession, staff_id: str) -> StaffAccount | None:
    """The staff account with this id (ids travel in events and tokens as strings)."""
    if not staff_id.isdigit():
        return None
    return await session.get(StaffAccount, int(staff_id))


async def staff_for_region(session: AsyncSession, region: str) -> StaffAccount | None:
    """Who answers for `region`: its first advisor (by account age), else the first administrator."""
    accounts = await _accounts(session, "advisor", "admin")
    advisors = [a for a in accounts if a.role == "advisor" and region in a.regions]
    admins = [a for a in accounts if a.role == "admin"]
    return (advisors or admins or [None])[0]


async def first_administrator(session: AsyncSession) -> StaffAccount | None:
    """The oldest administrator account: who answers when nothing names anyone else."""
    return next(iter(await _accounts(session, "admin")), None)


async def _accounts(session: AsyncSession, *roles: str) -> list[StaffAccount]:
    """The staff accounts with one of `roles`, oldest first."""
    return list((await session.execute(
        select(StaffAccount).where(col(StaffAccount.role).in_(roles)).order_by(col(StaffAccount.id))
    )).scalars().all())


async def create_first_admin(ctx: ServiceContext) -> None:
    """The administrator from settings, when the console has no staff account at all."""
    async with ctx.db.transaction() as session:
        if await session.scalar(select(func.count()).select_from(StaffAccount)):
            return
        # Two consoles starting at once: the unique e-mail makes the second insert a no-op.
        await insert_ignoring_duplicates(
            session,
            StaffAccount,
            {
                "email": ctx.settings.console_admin_email.strip().lower(),
                "password_hash": hash_password(ctx.settings.console_admin_password),
                "role": "admin",
                "regions": [],
                "created_at": ctx.clock.now(),
            },
            conflict_on=["email"],
        )


def sign_in(response: Response, settings: Settings, account: StaffAccount) -> None:
    # Issued on the system clock: a token's expiry is real time, also when the hub's clock is fixed.
    # The token names the account by its id; the e-mail rides along for display.
    token = issue_token(settings, str(account.id), _role(account.role), regions=account.regions,
                        email=account.email)
    response.set_cookie(
        COOKIE, token,
        max_age=settings.token_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=settings.url_of("console").startswith("https://"),
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="lax")


def _role(role: str) -> Role:
    if role not in STAFF_ROLES:
        raise ValueError(f"staff account with unknown role {role!r}")
    return role  # type: ignore[return-value]


class SignInRequired(Exception):
    """Raised by a page dependency; the app answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def redirect_to_login(request: Request, error: Exception) -> Response:
    next_path = error.next_path if isinstance(error, SignInRequired) else "/"
    target = "/login" if next_path == "/" else f"/login?next={quote(next_path, safe='/')}"
    return RedirectResponse(target, status_code=303)


def safe_next(path: str | None) -> str:
    """Where to go after sign-in: a path on this site only (no open redirect to another host)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


async def signed_in(request: Request, ctx: ContextDep) -> Principal:
    """The staff member of the session cookie; a missing, expired or revoked session signs in again."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired(request.url.path)
    try:
        principal = decode_token(ctx.settings, token)
    except jwt.InvalidTokenError:
        raise SignInRequired(request.url.path) from None
    async with ctx.db.reading() as session:
        account = await staff_by_id(session, principal.subject)
    # A deleted account or a changed role ends the session at once, not when the token expires.
    if account is None or account.role != principal.role:
        raise SignInRequired(request.url.path)
    return principal


StaffDep = Annotated[Principal, Depends(signed_in)]
