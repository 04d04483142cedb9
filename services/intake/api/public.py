"""The company's own questionnaire: staff create an invitation link (`staff`), and the company,
without an account, reads the questionnaire in its contact's language and sends its answers
(`router`). The link carries a JWT signed with the hub's key, with its own purpose claim (so it is
no bearer token, and no bearer token is a link), the company, the stage and an expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import SQLModel

from services.intake import dma, domain
from services.intake.api.assessments import submit
from services.intake.api.common import StaffWriter, company_or_404, contacts_of, require_in_programme
from services.intake.records import AssessmentAnswers
from shared.contracts.intake import AssessmentStage
from shared.service import ContextDep, ServiceContext

router = APIRouter(prefix="/questionnaire", tags=["questionnaire (public)"])
staff = APIRouter(tags=["questionnaire (public)"])

PURPOSE = "dma-questionnaire"
VERSION = "sme-v1"


class LinkRequest(SQLModel):
    stage: AssessmentStage


class Link(BaseModel):
    url: str
    token: str
    stage: AssessmentStage
    expires_at: datetime


class Invitation(BaseModel):
    company_id: str
    stage: AssessmentStage


def issue_link_token(ctx: ServiceContext, company_id: str, stage: AssessmentStage) -> tuple[str, datetime]:
    now = ctx.clock.now().astimezone(UTC)
    expires = now + timedelta(days=ctx.settings.intake_questionnaire_link_ttl_days)
    claims = {
        "purpose": PURPOSE, "sub": company_id, "hub": ctx.settings.hub_id, "stage": stage, "ver": VERSION,
        "iat": int(now.timestamp()), "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, ctx.settings.jwt_secret, algorithm=ctx.settings.jwt_algorithm), expires


def read_link_token(ctx: ServiceContext, token: str) -> Invitation:
    """The invitation of a valid link token; 403 for an invalid or expired one."""
    try:
        claims = jwt.decode(
            token, ctx.settings.jwt_secret, algorithms=[ctx.settings.jwt_algorithm],
            options={"require": ["purpose", "sub", "stage", "exp"], "verify_exp": False},
        )
    except jwt.InvalidTokenError as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"invalid questionnaire link: {error}") from None
    if claims["purpose"] != PURPOSE or claims.get("hub") != ctx.settings.hub_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid questionnaire link: not an invitation")
    # Expiry against the service's clock (injectable), not the machine's.
    if ctx.clock.now().timestamp() >= claims["exp"]:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this questionnaire link has expired")
    return Invitation(company_id=claims["sub"], stage=claims["stage"])


@staff.post("/companies/{company_id}/questionnaire-link", status_code=201, response_model=Link)
async def create_link(company_id: str, body: LinkRequest, ctx: ContextDep, staff: StaffWriter) -> Link:
    """A link for the company to fill in the T0 or T1 questionnaire itself."""
    async with ctx.db.reading() as session:
        require_in_programme(await company_or_404(session, ctx, company_id, staff=staff))
    return link_for(ctx, company_id, body.stage)


def link_for(ctx: ServiceContext, company_id: str, stage: AssessmentStage) -> Link:
    token, expires = issue_link_token(ctx, company_id, stage)
    base = (ctx.settings.intake_public_url or ctx.settings.intake_url).rstrip("/")
    return Link(url=f"{base}/questionnaire/{token}", token=token, stage=stage, expires_at=expires)


@router.get("/{token}")
async def read_questionnaire(
    token: str, ctx: ContextDep,
    lang: domain.Language | None = Query(None, description="nl or en; the contact's language by default."),
) -> dict[str, Any]:
    """The questionnaire in the company contact's language, with the stage and company name."""
    invitation = read_link_token(ctx, token)
    async with ctx.db.reading() as session:
        company = await company_or_404(session, ctx, invitation.company_id)
        contacts = await contacts_of(session, [company.id])
    primary = domain.primary_contact(contacts[company.id])
    language = lang or (primary.language if primary else domain.DEFAULT_LANGUAGE)
    return {**dma.localised(VERSION, language), "stage": invitation.stage, "company": company.legal_name}


@router.post("/{token}", status_code=201)
async def answer_questionnaire(
    token: str, body: AssessmentAnswers, request: Request, ctx: ContextDep
) -> JSONResponse:
    """The company's answers: scored and stored like staff-entered ones (422 / 409 store nothing)."""
    invitation = read_link_token(ctx, token)
    return await submit(ctx, request, invitation.company_id, invitation.stage, VERSION, body.answers,
                        entered_by="company")
