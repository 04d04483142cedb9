"""The questionnaire link as a browser uses it: what the link opens (the form, the scores once
answered, or a page saying why it opens nothing), and the posted form, submitted through
`assessments.submit` as a JSON submission would be. The form's hidden submission id is its
`Idempotency-Key`, so a double submit of the same form is stored once and answered as the first.
Also who a link is for (`addressee_of`): all the JSON questionnaire shows of the company.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from fastapi import HTTPException, Request, status
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from services.intake import dma, domain
from services.intake import questionnaire_pages as pages
from services.intake.api.assessments import assessments_of, exact_scores, submit
from services.intake.api.common import company_or_404, contacts_of
from services.intake.cohort import ProgrammeProblem, programme_problem
from services.intake.links import Invitation, LinkProblem, check_link_token
from services.intake.models import Company
from services.intake.questionnaire_form import answers_from_form, item_problems
from services.intake.records import Assessment
from shared.service import ServiceContext
from shared.settings import hub_name

# A submission id as the page writes it (a UUID); anything else is submitted without a key.
_SUBMISSION = re.compile(r"[A-Za-z0-9-]{8,64}")
# The notice, and its status, of a link whose company does not take part in the programme.
_NOT_IN_PROGRAMME: dict[ProgrammeProblem, tuple[pages.NoticeKind, int]] = {
    "left": ("closed", status.HTTP_410_GONE),
    "not_admitted": ("not_admitted", status.HTTP_409_CONFLICT),
}


@dataclass(frozen=True)
class Addressee:
    """The company a link is for, as its questionnaire names it."""

    name: str
    language: domain.Language


@dataclass(frozen=True)
class Invitee(Addressee):
    """The company a link is for, as its pages need it."""

    # Why the questionnaire does not open for it, if it does not.
    closed: tuple[pages.NoticeKind, int] | None
    answered: Assessment | None


async def addressee_of(ctx: ServiceContext, invitation: Invitation) -> Addressee:
    """The company of `invitation` (404 when this hub has none) and its contact's language."""
    async with ctx.db.reading() as session:
        company, language = await _company_and_language(session, ctx, invitation.company_id)
    return Addressee(name=company.legal_name, language=language)


async def invitee_of(ctx: ServiceContext, invitation: Invitation) -> Invitee:
    """The company of `invitation` (404 when this hub has none), its contact's language, and
    whether its questionnaire of that stage is open, answered or closed."""
    async with ctx.db.reading() as session:
        company, language = await _company_and_language(session, ctx, invitation.company_id)
        stored = await assessments_of(session, company.id)
    problem = programme_problem(company)
    closed: tuple[pages.NoticeKind, int] | None = None
    if problem is not None:
        closed = _NOT_IN_PROGRAMME[problem]
    elif dma.needs_t0_first(invitation.stage, stored):
        closed = ("needs_t0", status.HTTP_409_CONFLICT)
    return Invitee(name=company.legal_name, language=language, closed=closed,
                   answered=stored.get(invitation.stage))


async def _company_and_language(
    session: AsyncSession, ctx: ServiceContext, company_id: str
) -> tuple[Company, domain.Language]:
    company = await company_or_404(session, ctx, company_id)
    primary = domain.primary_contact((await contacts_of(session, [company.id]))[company.id])
    return company, primary.language if primary else domain.DEFAULT_LANGUAGE


async def open_link(ctx: ServiceContext, token: str, lang: str | None) -> Response:
    """The form, the scores once answered, or why the link does not open the questionnaire."""
    opened = await _open(ctx, token, lang)
    if isinstance(opened, Response):
        return opened
    invitation, invitee, page = opened
    if invitee.answered is None:
        return pages.form_page(page, invitation.version, invitation.expires_at, submission=str(uuid.uuid4()))
    return _answered_page(page, invitation, invitee, status.HTTP_200_OK)


async def answer_form(ctx: ServiceContext, request: Request, token: str) -> Response:
    """The posted form: the scores (201), the form again with what to correct (422), or what the
    questionnaire is now when it was answered meanwhile or is closed (409, 410)."""
    form = await request.form()
    opened = await _open(ctx, token, _text(form, "lang"))
    if isinstance(opened, Response):
        return opened
    invitation, invitee, page = opened
    answers = answers_from_form(form, invitation.version)
    # The answers are the payload, as a JSON submission's body: a repeat is recognised by its
    # answers, whatever else the form held.
    payload = json.dumps({"answers": answers}, sort_keys=True).encode()
    try:
        response = await submit(ctx, request, invitation.company_id, invitation.stage, invitation.version,
                                answers, entered_by="company",
                                key=_submission_key(invitation, _text(form, "submission")), payload=payload)
    except HTTPException as refused:
        if refused.status_code not in (status.HTTP_409_CONFLICT, status.HTTP_422_UNPROCESSABLE_CONTENT):
            raise
        # Answered meanwhile (another tab, or the same form sent back with other answers), or
        # closed: the page says what the company's questionnaire is now.
        invitee = await invitee_of(ctx, invitation)
        return _answered_page(page, invitation, invitee, status.HTTP_409_CONFLICT)
    body = json.loads(bytes(response.body))
    if response.status_code == status.HTTP_422_UNPROCESSABLE_CONTENT:
        problems = item_problems(body["errors"], answers, invitation.version)
        return pages.form_page(page, invitation.version, invitation.expires_at,
                               submission=_text(form, "submission") or str(uuid.uuid4()),
                               answers=answers, problems=problems)
    result = pages.Result(
        dimensions={d: Decimal(str(v)) for d, v in body["dimensions"].items()},
        overall=Decimal(str(body["overall"])), band=body["band"],
    )
    return pages.result_page(page, invitation.version, result, just_sent=True,
                             status_code=response.status_code)


async def _open(
    ctx: ServiceContext, token: str, lang: str | None
) -> tuple[Invitation, Invitee, pages.Page] | Response:
    """What a link opens, or the page that says why it opens nothing: an invalid or expired
    link, an unknown company, or a questionnaire that is closed or not open yet."""
    hub = hub_name(ctx.settings)
    try:
        invitation = check_link_token(ctx, token)
    except LinkProblem as problem:
        code = status.HTTP_410_GONE if problem.kind == "expired" else status.HTTP_403_FORBIDDEN
        return pages.notice_page(problem.kind, code, hub)
    try:
        invitee = await invitee_of(ctx, invitation)
    except HTTPException:
        # A valid signature on a company this hub does not know: a link that opens nothing.
        return pages.notice_page("invalid", status.HTTP_404_NOT_FOUND, hub)
    language = next((known for known in domain.LANGUAGES if known == lang), invitee.language)
    page = pages.Page(token=token, language=language, hub=hub, company=invitee.name, stage=invitation.stage,
                      zone=ctx.calendar.timezone)
    if invitee.closed is not None:
        kind, code = invitee.closed
        return pages.notice_page(kind, code, hub, page)
    return invitation, invitee, page


def _answered_page(page: pages.Page, invitation: Invitation, invitee: Invitee, code: int) -> Response:
    if invitee.closed is not None or invitee.answered is None:
        kind, code = invitee.closed or ("invalid", status.HTTP_409_CONFLICT)
        return pages.notice_page(kind, code, page.hub, page)
    scores = exact_scores(invitee.answered)
    result = pages.Result(
        dimensions={d: dma.rounded(v) for d, v in scores.dimensions.items()},
        overall=dma.rounded(scores.overall), band=dma.band(scores.overall),
        completed_at=invitee.answered.completed_at,
    )
    return pages.result_page(page, invitation.version, result, just_sent=False, status_code=code)


def _submission_key(invitation: Invitation, submission: str | None) -> str | None:
    """The Idempotency-Key of a form submission: its id, within the company and stage (so no
    form can replay another's answer)."""
    if submission is None or not _SUBMISSION.fullmatch(submission):
        return None
    return f"questionnaire:{invitation.company_id}:{invitation.stage}:{submission}"


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None
