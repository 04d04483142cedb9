"""Enrolments over HTTP: enrol a company's staff member in a session, list a session's enrolments,
cancel one until the cut-off, record attendance after the session, and the certificate of
attendance as a PDF. Staff manage (advisors for their regions' companies), viewers read."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.training import certificates, enrolments
from services.training.api.common import StaffReader, StaffWriter, TrainingDep
from services.training.models import AttendanceList, EnrolmentCancel, EnrolmentCreate, EnrolmentPublic
from shared.service import ClockDep, HubDep, IdempotentDep, SessionDep

router = APIRouter(tags=["enrolments"])


@router.post(
    "/sessions/{session_id}/enrolments", status_code=status.HTTP_201_CREATED, response_model=EnrolmentPublic
)
async def enrol(
    session_id: str,
    body: EnrolmentCreate,
    write: IdempotentDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    staff: StaffWriter,
) -> EnrolmentPublic | Response:
    """Enrol a participant: `confirmed` while seats are left, else `waitlisted` with the place in
    line. 409 after the cut-off, for a company that left, or for someone enrolled already."""
    return await write(
        lambda session: enrolments.enrol(
            body, session, hub_id, clock, training, session_id=session_id, staff=staff
        ),
        subject=lambda answer: answer.company_id,
    )


@router.get("/sessions/{session_id}/enrolments")
async def list_enrolments(
    session_id: str, session: SessionDep, hub_id: HubDep, staff: StaffReader
) -> list[EnrolmentPublic]:
    return await enrolments.of_session(session, hub_id, session_id, staff)


@router.get("/enrolments/{enrolment_id}")
async def get_enrolment(
    enrolment_id: str, session: SessionDep, hub_id: HubDep, staff: StaffReader
) -> EnrolmentPublic:
    return EnrolmentPublic.model_validate(
        await enrolments.enrolment_or_404(session, hub_id, enrolment_id, staff)
    )


@router.post("/enrolments/{enrolment_id}/cancellation", response_model=EnrolmentPublic)
async def cancel_enrolment(
    enrolment_id: str,
    body: EnrolmentCancel,
    write: IdempotentDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    staff: StaffWriter,
) -> EnrolmentPublic | Response:
    """Cancel until the cut-off; a seat it held goes to the first waitlisted participant."""
    return await write(
        lambda session: enrolments.cancel(
            body, session, hub_id, clock, training, enrolment_id=enrolment_id, staff=staff
        ),
        subject=lambda answer: answer.company_id,
    )


@router.post("/sessions/{session_id}/attendance", response_model=list[EnrolmentPublic])
async def record_attendance(
    session_id: str,
    body: AttendanceList,
    write: IdempotentDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    staff: StaffWriter,
) -> list[EnrolmentPublic] | Response:
    """Attended or absent, per confirmed participant, once the session has ended."""
    return await write(
        lambda session: enrolments.record_attendance(
            body, session, hub_id, clock, training, session_id=session_id, staff=staff
        )
    )


@router.get(
    "/enrolments/{enrolment_id}/certificate",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def certificate(
    enrolment_id: str,
    session: SessionDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    staff: StaffReader,
) -> Response:
    """The certificate of attendance (PDF) of a participant who attended."""
    pdf = await certificates.issue(session, hub_id, clock, training, enrolment_id=enrolment_id, staff=staff)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{enrolment_id}.pdf"'},
    )
