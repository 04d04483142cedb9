"""Digital maturity assessments' routes: staff enter answers from the interview (the company fills
in the same questionnaire through its invitation link, see `public`), and read T0, T1 and their
delta (`use_cases.assessments`). `submit` is the one idempotent submission of both."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from services.intake.api.common import StaffReader, StaffWriter
from services.intake.records import AssessmentCreate, AssessmentPublic, AssessmentsPublic
from services.intake.use_cases import assessments
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts.intake import AssessmentStage
from shared.idempotency import FROM_HEADER, Key
from shared.outbox import Outbox
from shared.service import ClockDep, HubDep, IdempotentDep, IdempotentWrite, OutboxDep, ReadingDep

router = APIRouter(tags=["assessments"])


@router.post("/companies/{company_id}/assessments", status_code=201, response_model=AssessmentPublic,
             responses={409: {"description": "A T1 before the T0, or a stage already assessed."},
                        422: {"description": "Invalid answers, every offending item named."}})
async def enter_assessment(
    company_id: str, body: AssessmentCreate, staff: StaffWriter, write: IdempotentDep, hub_id: HubDep,
    clock: ClockDep, outbox: OutboxDep,
) -> AssessmentPublic | Response:
    """Score and store an assessment entered by staff (e.g. from the interview)."""
    return await submit(write, company_id, body.stage, body.questionnaire_version, body.answers,
                        entered_by=staff.subject, hub_id=hub_id, clock=clock, outbox=outbox, staff=staff)


@router.get("/companies/{company_id}/assessments", response_model=AssessmentsPublic)
async def read_assessments(
    company_id: str, session: ReadingDep, hub_id: HubDep, staff: StaffReader
) -> AssessmentsPublic:
    """T0 and T1 (null until assessed) and the delta T1 - T0 per dimension and overall."""
    return await assessments.read_assessments(session, hub_id, company_id, staff)


async def submit(
    write: IdempotentWrite, company_id: str, stage: AssessmentStage, version: str, answers: Any, *,
    entered_by: str, hub_id: str, clock: Clock, outbox: Outbox, staff: Principal | None = None,
    key: Key = FROM_HEADER, payload: bytes | None = None,
) -> AssessmentPublic | Response:
    """Submit one assessment as an idempotent write; a refusal (422 / 409) stores nothing. `key`
    and `payload` stand in for the request's `Idempotency-Key` and body (see `IdempotentWrite`)."""
    try:
        # The company's own link has no company_id in its path: the answer is about this company.
        return await write(
            lambda session: assessments.submit_assessment(
                session, company_id, stage, version, answers, entered_by=entered_by, hub_id=hub_id,
                clock=clock, outbox=outbox, staff=staff),
            subject=lambda _answer: company_id, key=key, payload=payload,
        )
    except IntegrityError:
        # Two first submissions of one stage at once: the database kept one.
        raise assessments.already_assessed(company_id, stage) from None
