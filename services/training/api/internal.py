"""Internal lookups for other services (role `service`): the personal data training holds on a
company's participants (gathered by intake's export), and a recipient named by reference in a
`notification-requested` (`participant` with the enrolment id), resolved at send time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.training import companies
from services.training.api.common import SERVICE
from services.training.models import RecipientPublic
from shared.service import ClockDep, HubDep, SessionDep

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[SERVICE])


@router.get("/personal-data/{company_id}")
async def personal_data(
    company_id: str, session: SessionDep, hub_id: HubDep, clock: ClockDep
) -> dict[str, Any]:
    """Everything training holds on the company's participants (empty for a company it never saw)."""
    return await companies.personal_data(session, hub_id, company_id, clock.now())


@router.get("/recipients/{kind}/{recipient_id}")
async def resolve_recipient(
    kind: str, recipient_id: str, session: SessionDep, hub_id: HubDep
) -> RecipientPublic:
    """The name, e-mail and language of a participant (kind `participant`, the enrolment id); 410
    once the enrolment is cancelled or its participant erased."""
    return await companies.recipient(session, hub_id, kind, recipient_id)
