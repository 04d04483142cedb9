"""The dead-letter admin endpoints every service serves (included by shared/service.py `build_app`).

`GET /admin/dead-letters` lists the service's dead letters, newest first (`?open=true`: only those
not resolved yet). `POST /admin/dead-letters/{id}/retry` runs the letter's record through the
service's own consumer again, in-process, once the cause is fixed: on success the letter is resolved
(when, by whom) in the effect's transaction and the outcome is returned; a record that fails again
answers 409 with the new error and stays open; a resolved letter answers 409. `edih dead-letters`
calls both. Admin role only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import col, select

from shared.auth import Principal, require
from shared.inbox import AlreadyResolved, DeadLetter, EventConsumer, ReplayFailed

router = APIRouter(prefix="/admin/dead-letters", tags=["admin"])
Admin = Annotated[Principal, Depends(require("admin"))]


class DeadLetterPublic(BaseModel):
    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    error: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


class RetryOutcome(BaseModel):
    id: int
    outcome: Literal["applied", "duplicate", "ignored"]
    resolved_at: datetime
    resolved_by: str


@router.get("", response_model=list[DeadLetterPublic])
async def list_dead_letters(
    request: Request,
    _: Admin,
    open_only: Annotated[bool, Query(alias="open", description="only the letters not resolved yet")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetter]:
    query = select(DeadLetter).order_by(col(DeadLetter.created_at).desc(), col(DeadLetter.id).desc())
    if open_only:
        query = query.where(col(DeadLetter.resolved_at).is_(None))
    async with request.app.state.ctx.db.reading() as session:
        return list((await session.execute(query.limit(limit))).scalars().all())


@router.post("/{letter_id}/retry", response_model=RetryOutcome,
             responses={409: {"description": "resolved before, or the record failed again"},
                        503: {"description": "a dependency of the handler is unavailable"}})
async def retry_dead_letter(letter_id: int, request: Request, admin: Admin) -> RetryOutcome | JSONResponse:
    ctx = request.app.state.ctx
    async with ctx.db.reading() as session:
        letter = await session.get(DeadLetter, letter_id)
    if letter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dead letter {letter_id}")
    if letter.resolved_at is not None:
        return _already_resolved(letter)
    consumer = _consumer_of(ctx.consumers, letter)
    try:
        outcome, resolved_at = await consumer.replay(letter, admin.subject)
    except AlreadyResolved:
        async with ctx.db.reading() as session:
            return _already_resolved(await session.get(DeadLetter, letter_id) or letter)
    except ReplayFailed as failure:
        if failure.transient:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                f"dead letter {letter_id} not retried, try again later: {failure.error}"
                                ) from failure
        return JSONResponse({"detail": f"dead letter {letter_id} failed again; it stays open",
                             "error": failure.error}, status_code=status.HTTP_409_CONFLICT)
    return RetryOutcome(id=letter_id, outcome=outcome,  # type: ignore[arg-type]
                        resolved_at=resolved_at, resolved_by=admin.subject)


def _consumer_of(consumers: list[EventConsumer], letter: DeadLetter) -> EventConsumer:
    for consumer in consumers:
        if consumer.group == letter.consumer:
            return consumer
    raise HTTPException(status.HTTP_409_CONFLICT,
                        f"dead letter {letter.id} is of consumer {letter.consumer!r}, which this "
                        "service no longer runs")


def _already_resolved(letter: DeadLetter) -> JSONResponse:
    at = letter.resolved_at.isoformat() if letter.resolved_at else "?"
    return JSONResponse(
        {"detail": f"dead letter {letter.id} was resolved at {at} by {letter.resolved_by}",
         "resolved_at": at, "resolved_by": letter.resolved_by},
        status_code=status.HTTP_409_CONFLICT,
    )
