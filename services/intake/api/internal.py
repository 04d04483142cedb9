"""Internal lookups for other services: resolve a recipient named by reference in an event, and
the company's questionnaire link for an invitation or reminder."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from services.intake import domain
from services.intake.api.common import SERVICE, company_or_404, contacts_of
from services.intake.api.public import Link, link_for
from services.intake.models import RecipientPublic
from shared.contracts.intake import AssessmentStage
from shared.service import ContextDep

router = APIRouter(prefix="/internal", tags=["internal"])

RECIPIENT_KINDS = ("primary-contact",)


@router.get("/recipients/{kind}/{recipient_id}", response_model=RecipientPublic, dependencies=[SERVICE])
async def resolve_recipient(kind: str, recipient_id: str, ctx: ContextDep) -> RecipientPublic:
    """The name, e-mail and language of a recipient named in an event, e.g. a company's primary
    contact (`primary-contact` with the company id). Asked at send time, so changes apply."""
    if kind not in RECIPIENT_KINDS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown recipient kind {kind!r}; intake knows {', '.join(RECIPIENT_KINDS)}",
        )
    async with ctx.db.reading() as session:
        company = await company_or_404(session, ctx, recipient_id)
        contacts = await contacts_of(session, [company.id])
    primary = domain.primary_contact(contacts[company.id])
    if primary is None or primary.email is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"company {recipient_id} has no contact with an e-mail address"
        )
    return RecipientPublic(name=primary.name, email=primary.email, language=primary.language)


@router.get("/questionnaire-links/{company_id}/{stage}", response_model=Link, dependencies=[SERVICE])
async def questionnaire_link(company_id: str, stage: AssessmentStage, ctx: ContextDep) -> Link:
    """A fresh link for the company to fill in the T0 or T1 questionnaire (for a message to it)."""
    async with ctx.db.reading() as session:
        await company_or_404(session, ctx, company_id)
    return link_for(ctx, company_id, stage)
