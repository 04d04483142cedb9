"""Safe retries of HTTP writes: the `Idempotency-Key` header.

The first response to a key is stored in the same transaction as the write it answers; the same key
with the same request returns that response again, and with another request is refused (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from shared.clock import Clock
from shared.db import Database, UTCDateTime

HEADER = "Idempotency-Key"

Work = Callable[[AsyncSession], Awaitable[tuple[int, Any]]]


class StoredResponse(SQLModel, table=True):
    """The first response given to an idempotency key."""

    __tablename__ = "idempotent_responses"

    key: str = Field(primary_key=True, max_length=200)
    fingerprint: str
    status_code: int
    body: str
    created_at: datetime = Field(sa_type=UTCDateTime)


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.url.path}\n".encode())
    digest.update(await request.body())
    return digest.hexdigest()


async def run_idempotent(db: Database, clock: Clock, request: Request, work: Work) -> JSONResponse:
    """Run `work` in one transaction, answering a repeated `Idempotency-Key` from the store.

    `work` returns (status code, JSON body) or raises HTTPException (which is not stored, so a
    retry after an error is evaluated afresh).
    """
    key = request.headers.get(HEADER)
    if key is not None and not 1 <= len(key) <= 200:
        raise HTTPException(422, f"{HEADER} must be 1 to 200 characters")
    if key is None:
        async with db.transaction() as session:
            status_code, body = await work(session)
        return JSONResponse(body, status_code=status_code)
    fingerprint = await _fingerprint(request)
    try:
        async with db.transaction() as session:
            stored = await session.get(StoredResponse, key)
            if stored is not None:
                return _replay(stored, fingerprint)
            status_code, body = await work(session)
            session.add(
                StoredResponse(
                    key=key, fingerprint=fingerprint, status_code=status_code,
                    body=json.dumps(body), created_at=clock.now(),
                )
            )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did.
        async with db.reading() as session:
            stored = await session.get(StoredResponse, key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    return JSONResponse(body, status_code=status_code)


def _replay(stored: StoredResponse, fingerprint: str) -> JSONResponse:
    if stored.fingerprint != fingerprint:
        raise HTTPException(
            422, f"this {HEADER} was already used for a different request; use a new key"
        )
    return JSONResponse(
        json.loads(stored.body), status_code=stored.status_code, headers={"Idempotent-Replay": "true"}
    )
