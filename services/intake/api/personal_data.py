"""The routes of a company's contacts' personal data: export it, or erase it on request
(`use_cases.personal_data`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.intake import elsewhere
from services.intake.api.common import StaffWriter
from services.intake.settings import IntakeSettings
from services.intake.use_cases import personal_data
from services.intake.use_cases.personal_data import Erasure, PersonalData
from shared.service import ClockDep, HubDep, IdempotentDep, OutboxDep, SettingsDep

router = APIRouter(tags=["personal data"])


@router.get("/companies/{company_id}/personal-data", response_model=PersonalData)
async def export_personal_data(
    company_id: str, write: IdempotentDep, settings: SettingsDep, hub_id: HubDep, clock: ClockDep,
    staff: StaffWriter,
) -> PersonalData | Response:
    """Everything intake holds on the company's contacts: the contacts (also those added since an
    erasure), the interview notes about them, and the stored answers to retried requests
    (`stored_responses`, kept for `Idempotency-Key` retries; they may hold earlier values); and
    what the other services hold (`other_services`, e.g. training's participants), with any that
    did not answer named in `unanswered`."""
    held, unanswered = await elsewhere.gather(IntakeSettings.of(settings), company_id)
    export = await write(lambda session: personal_data.export_personal_data(
        session, company_id, hub_id=hub_id, clock=clock, staff=staff))
    if isinstance(export, PersonalData):
        export.other_services, export.unanswered = held, unanswered
    return export


@router.post("/companies/{company_id}/personal-data/erasure", response_model=Erasure)
async def erase_personal_data(
    company_id: str, staff: StaffWriter, write: IdempotentDep, hub_id: HubDep, clock: ClockDep,
    outbox: OutboxDep,
) -> Erasure | Response:
    """Anonymise the contacts and the interview notes, forget the stored answers about the company
    (a retry with an old `Idempotency-Key` is evaluated afresh) and publish `contacts-erased`;
    409 when there is no personal data to erase."""
    return await write(lambda session: personal_data.erase_personal_data(
        session, company_id, hub_id=hub_id, clock=clock, outbox=outbox, staff=staff))
