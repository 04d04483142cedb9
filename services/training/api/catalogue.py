"""The catalogue over HTTP: courses (`GET/POST /courses`, `PATCH /courses/{id}`) and their
sessions (`POST /courses/{id}/sessions`, `GET /sessions?from=&to=&course_id=` with the seats left,
`GET/PATCH /sessions/{id}`). Staff (admin, advisor) manage, viewers read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.training import catalogue
from services.training.api.common import StaffReader, StaffWriter, TrainingDep
from services.training.domain import CourseStatus
from services.training.models import (
    CourseCreate,
    CoursePublic,
    CourseUpdate,
    SessionCreate,
    SessionPublic,
    SessionUpdate,
)
from shared.service import ClockDep, HubDep, IdempotentDep, SessionDep

router = APIRouter(tags=["catalogue"])


@router.get("/courses")
async def list_courses(
    session: SessionDep,
    hub_id: HubDep,
    _: StaffReader,
    status: CourseStatus | None = None,
    dimension: str | None = None,
) -> list[CoursePublic]:
    """The hub's courses, oldest first; `status=active` for those on offer, `dimension` for those
    improving one DMA dimension."""
    return await catalogue.list_courses(session, hub_id, status=status, dimension=dimension)


@router.post("/courses", status_code=status.HTTP_201_CREATED, response_model=CoursePublic)
async def create_course(
    body: CourseCreate, write: IdempotentDep, hub_id: HubDep, clock: ClockDep, _: StaffWriter
) -> CoursePublic | Response:
    return await write(lambda session: catalogue.create_course(body, session, hub_id, clock))


@router.get("/courses/{course_id}")
async def get_course(course_id: str, session: SessionDep, hub_id: HubDep, _: StaffReader) -> CoursePublic:
    return CoursePublic.model_validate(await catalogue.course_or_404(session, hub_id, course_id))


@router.patch("/courses/{course_id}", response_model=CoursePublic)
async def update_course(
    course_id: str, body: CourseUpdate, write: IdempotentDep, hub_id: HubDep, clock: ClockDep, _: StaffWriter
) -> CoursePublic | Response:
    """Change a course; `{"status": "retired"}` retires it (no new sessions or recommendations)."""
    return await write(
        lambda session: catalogue.update_course(body, session, hub_id, clock, course_id=course_id)
    )


@router.post(
    "/courses/{course_id}/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionPublic
)
async def create_session(
    course_id: str,
    body: SessionCreate,
    write: IdempotentDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    _: StaffWriter,
) -> SessionPublic | Response:
    """Plan a session of an active course; start and end in the hub's local time (Europe/Amsterdam)
    unless they carry an offset."""
    return await write(
        lambda session: catalogue.create_session(body, session, hub_id, clock, training, course_id=course_id)
    )


@router.get("/sessions")
async def list_sessions(
    session: SessionDep,
    hub_id: HubDep,
    training: TrainingDep,
    _: StaffReader,
    starting_from: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    course_id: str | None = None,
) -> list[SessionPublic]:
    """Sessions starting from `from` until `to` (local time unless an offset is given), with the
    seats left."""
    return await catalogue.list_sessions(
        session, hub_id, training, starting_from=starting_from, to=to, course_id=course_id
    )


@router.get("/sessions/{session_id}")
async def get_session(
    session_id: str, session: SessionDep, hub_id: HubDep, training: TrainingDep, _: StaffReader
) -> SessionPublic:
    return await catalogue.get_session(session, hub_id, training, session_id)


@router.patch("/sessions/{session_id}", response_model=SessionPublic)
async def update_session(
    session_id: str,
    body: SessionUpdate,
    write: IdempotentDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    _: StaffWriter,
) -> SessionPublic | Response:
    """Change the capacity (409 below the participants confirmed; new seats go to the waitlist in
    order), location or link."""
    return await write(
        lambda session: catalogue.update_session(
            body, session, hub_id, clock, training, session_id=session_id
        )
    )
