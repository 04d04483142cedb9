"""Internal lookups for other services: resolve a recipient named by reference in an event, and
the company's questionnaire link for an invitation or reminder."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.api.common import SERVICE
from services.intake.models import RecipientPublic
from services.intake.use_cases import contacts, questionnaire
from services.intake.use_cases.questionnaire import Link
from shared.contracts.intake import AssessmentStage
from shared.service import ClockDep, HubDep, ReadingDep, SettingsDep

router = APIRouter(prefix="/internal", tags=["internal"])


@router.get("/recipients/{kind}/{recipient_id}", response_model=RecipientPublic, dependencies=[SERVICE])
async def resolve_recipient(
    kind: str, recipient_id: str, session: ReadingDep, hub_id: HubDep
) -> RecipientPublic:
    """The name, e-mail and language of a recipient named in an event, e.g. a company's primary
    contact (`primary-contact` with the company id). Asked at send time, so changes apply."""
    return await contacts.resolve_recipient(session, hub_id, kind, recipient_id)


@router.get("/questionnaire-links/{company_id}/{stage}", response_model=Link, dependencies=[SERVICE])
async def questionnaire_link(
    company_id: str, stage: AssessmentStage, session: ReadingDep, settings: SettingsDep, clock: ClockDep
) -> Link:
    """A fresh link for the company to fill in the T0 or T1 questionnaire (for a message to it)."""
    return await questionnaire.create_link(session, company_id, stage, settings=settings, clock=clock)
