"""The company's own questionnaire link, without HTTP: a link made for staff or for a message to
the company, what a link's token says (Forbidden for one that opens nothing), who the link is for
and whether its questionnaire is open, and the company's answers, stored as a staff-entered
assessment would be (`assessments.submit_assessment`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import dma, domain, links
from services.intake.cohort import ProgrammeProblem, programme_problem
from services.intake.models import Company
from services.intake.records import Assessment
from services.intake.use_cases.assessments import assessments_of
from services.intake.use_cases.common import contacts_of, known_company, require_in_programme
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts.intake import AssessmentStage
from shared.errors import Forbidden
from shared.settings import Settings


class Link(BaseModel):
    url: str
    token: str
    stage: AssessmentStage
    expires_at: datetime


@dataclass(frozen=True)
class Invitee:
    """The company a link is for, as its questionnaire names it, and whether that questionnaire is
    open: `closed` says why not (the company does not take part, or a T1 waits for its T0),
    `answered` holds the assessment of the link's stage once there is one."""

    name: str
    language: domain.Language
    closed: ProgrammeProblem | Literal["needs_t0"] | None
    answered: Assessment | None


def link_for(settings: Settings, clock: Clock, company_id: str, stage: AssessmentStage) -> Link:
    token, expires = links.issue_link_token(settings, clock, company_id, stage)
    base = (settings.intake_public_url or settings.url_of("intake")).rstrip("/")
    return Link(url=f"{base}/questionnaire/{token}", token=token, stage=stage, expires_at=expires)


async def create_link(
    session: AsyncSession, company_id: str, stage: AssessmentStage, *, settings: Settings, clock: Clock,
    staff: Principal | None = None,
) -> Link:
    """A link for a company of this hub, for staff to hand out (the company must take part in the
    programme), or, without `staff`, for a message to the company (any company of the hub)."""
    company = await known_company(session, settings.hub_id, company_id, staff=staff)
    if staff is not None:
        require_in_programme(company)
    return link_for(settings, clock, company_id, stage)


def invitation_of(settings: Settings, clock: Clock, token: str) -> links.Invitation:
    """The invitation of a valid link token; Forbidden for an invalid or expired one."""
    try:
        return links.check_link_token(settings, clock, token)
    except links.LinkProblem as problem:
        raise Forbidden(str(problem)) from None


async def invitee_of(session: AsyncSession, hub_id: str, invitation: links.Invitation) -> Invitee:
    """The company of `invitation` (NotFound when this hub has none), its contact's language, and
    whether its questionnaire of that stage is open, answered or closed."""
    company = await known_company(session, hub_id, invitation.company_id)
    stored = await assessments_of(session, company.id)
    closed: ProgrammeProblem | Literal["needs_t0"] | None = programme_problem(company)
    if closed is None and dma.needs_t0_first(invitation.stage, stored):
        closed = "needs_t0"
    return Invitee(name=company.legal_name, language=await _language(session, company), closed=closed,
                   answered=stored.get(invitation.stage))


async def read_questionnaire(
    session: AsyncSession, hub_id: str, invitation: links.Invitation, language: domain.Language | None
) -> dict[str, Any]:
    """The questionnaire of `invitation` in `language` (by default its contact's), with the stage
    and the company's name: all it shows of the company."""
    company = await known_company(session, hub_id, invitation.company_id)
    questionnaire = dma.localised(invitation.version, language or await _language(session, company))
    return {**questionnaire, "stage": invitation.stage, "company": company.legal_name}


async def _language(session: AsyncSession, company: Company) -> domain.Language:
    primary = domain.primary_contact((await contacts_of(session, [company.id]))[company.id])
    return primary.language if primary else domain.DEFAULT_LANGUAGE
