"""Safe retries of HTTP writes: the `Idempotency-Key` header.

The first response to a key is stored in the same transaction as the write it answers; the same key
with the same request returns that response again, and with another request is refused (422).
`run_use_case` runs a use case (it returns a model and raises domain errors, which are not stored);
`run_idempotent` a write that makes its HTTP answer itself. A stored response names the company it
is about, so that erasing a company's personal data also forgets the responses that held it
(`forget`). A write that arrives in another shape than its JSON
request (a posted HTML form) names its key and payload itself, so it is recognised as the same
request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final, Generic, Literal, TypeVar

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from shared.clock import Clock
from shared.db import Database, UTCDateTime
from shared.errors import Invalid

HEADER = "Idempotency-Key"

Answer = TypeVar("Answer", bound=BaseModel | list[Any])
Value = TypeVar("Value")
# A use case bound to its command: the transaction's session in, the answer (a model) out.
UseCase = Callable[[AsyncSession], Awaitable[Answer]]
# A write that makes its HTTP answer itself: (status code, JSON body).
Work = Callable[[AsyncSession], Awaitable[tuple[int, Any]]]
# The company a response is about, from its body; by default the `company_id` of the path.
Subject = Callable[[Any], str | None]


class _FromRequest(Enum):
    HEADER = "the request's Idempotency-Key header"


# The default key: the request's own header (an explicit None means the write has no key).
FROM_HEADER: Final = _FromRequest.HEADER
Key = str | None | Literal[_FromRequest.HEADER]


class StoredResponse(SQLModel, table=True):
    """The first response given to an idempotency key."""

    __tablename__ = "idempotent_responses"

    key: str = Field(primary_key=True, max_length=200)
    fingerprint: str
    status_code: int
    body: str
    subject: str | None = Field(default=None, index=True, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)


async def _fingerprint(request: Request, payload: bytes | None) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.url.path}\n".encode())
    digest.update(await request.body() if payload is None else payload)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Answered(Generic[Value]):
    """A write's first answer: what is stored for its key, and what the caller returns."""

    status_code: int
    body: Any
    subject: str | None
    value: Value


async def run_use_case(
    db: Database, clock: Clock, request: Request, use_case: UseCase[Answer],
    subject: Callable[[Answer], str | None] | None = None, *, key: Key = FROM_HEADER,
    payload: bytes | None = None,
) -> Answer | JSONResponse:
    """Run `use_case` in one transaction, answering a repeated `Idempotency-Key` from the store.

    `use_case` takes the transaction's session and returns its answer, a pydantic model (or a list
    of them), which is
    returned for FastAPI to validate against the route's response model (and stored with the
    route's status code); a repeated key gets the stored answer again (a JSONResponse marked
    `Idempotent-Replay`). A `DomainError` it raises rolls the transaction back and is not stored,
    so a retry after a refusal is evaluated afresh. `subject` names the company the stored answer
    is about (default: the request's `company_id` path parameter). `key` (default: the request's
    header; None for none) and `payload` (default: the request's body) stand in for the request's
    own when the write came in another shape; the fingerprint is the method, the path and the payload.
    """
    status_code = getattr(request.scope.get("route"), "status_code", None) or 200

    async def answered(session: AsyncSession) -> _Answered[Answer]:
        answer = await use_case(session)
        about = subject(answer) if subject else request.path_params.get("company_id")
        return _Answered(status_code, jsonable_encoder(answer), about, answer)

    return await _once(db, clock, request, answered, key, payload)


async def run_idempotent(
    db: Database, clock: Clock, request: Request, work: Work, subject: Subject | None = None, *,
    key: Key = FROM_HEADER, payload: bytes | None = None,
) -> JSONResponse:
    """As `run_use_case`, for a `work` that returns (status code, JSON body) itself."""

    async def answered(session: AsyncSession) -> _Answered[JSONResponse]:
        status_code, body = await work(session)
        about = subject(body) if subject else request.path_params.get("company_id")
        return _Answered(status_code, body, about, JSONResponse(body, status_code=status_code))

    return await _once(db, clock, request, answered, key, payload)


async def _once(
    db: Database, clock: Clock, request: Request,
    answer: Callable[[AsyncSession], Awaitable[_Answered[Value]]], key: Key, payload: bytes | None,
) -> Value | JSONResponse:
    """The first answer to `key` (stored in the transaction of the write it answers), or the
    stored one; without a key, just the write's answer."""
    if key is FROM_HEADER:
        key = request.headers.get(HEADER)
    if key is not None and not 1 <= len(key) <= 200:
        raise Invalid(f"{HEADER} must be 1 to 200 characters")
    if key is None:
        async with db.transaction() as session:
            return (await answer(session)).value
    fingerprint = await _fingerprint(request, payload)
    try:
        async with db.transaction() as session:
            stored = await session.get(StoredResponse, key)
            if stored is not None:
                return _replay(stored, fingerprint)
            first = await answer(session)
            session.add(
                StoredResponse(
                    key=key, fingerprint=fingerprint, status_code=first.status_code,
                    body=json.dumps(first.body), subject=first.subject, created_at=clock.now(),
                )
            )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did.
        async with db.reading() as session:
            stored = await session.get(StoredResponse, key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    return first.value


def _replay(stored: StoredResponse, fingerprint: str) -> JSONResponse:
    if stored.fingerprint != fingerprint:
        raise Invalid(f"this {HEADER} was already used for a different request; use a new key")
    return JSONResponse(
        json.loads(stored.body), status_code=stored.status_code, headers={"Idempotent-Replay": "true"}
    )


async def forget(session: AsyncSession, subject: str) -> int:
    """Delete the stored responses about `subject` (a company whose personal data is erased); a
    retry with one of their keys is then evaluated afresh. Returns how many were deleted."""
    result = await session.execute(delete(StoredResponse).where(StoredResponse.subject == subject))  # type: ignore[arg-type]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
