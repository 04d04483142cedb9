"""The questionnaire link as a browser uses it: what the link opens (the form, the scores once
answered, or a page saying why it opens nothing), and the posted form, submitted through
`assessments.submit` as a JSON submission is. The form's hidden submission id is its
`Idempotency-Key`, so a double submit of the same form is stored once and answered as the first.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import Request, status
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from services.intake import dma, domain
from services.intake import questionnaire_pages as pages
from services.intake.api.assessments import submit
from services.intake.cohort import ProgrammeProblem
from services.intake.links import Invitation, LinkProblem, check_link_token
from services.intake.questionnaire_form import answers_from_form, item_problems
from services.intake.records import AssessmentPublic
from services.intake.use_cases.assessments import check_answers, exact_scores
from services.intake.use_cases.questionnaire import Invitee, invitee_of
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound
from shared.outbox import Outbox
from shared.service import IdempotentWrite
from shared.settings import Settings, hub_name

# A submission id as the page writes it (a UUID); anything else is submitted without a key.
_SUBMISSION = re.compile(r"[A-Za-z0-9-]{8,64}")
# The notice, and its status, of a link whose questionnaire is closed, or not open yet.
_CLOSED: dict[ProgrammeProblem | Literal["needs_t0"], tuple[pages.NoticeKind, int]] = {
    "left": ("closed", status.HTTP_410_GONE),
    "not_admitted": ("not_admitted", status.HTTP_409_CONFLICT),
    "needs_t0": ("needs_t0", status.HTTP_409_CONFLICT),
}


async def open_link(
    session: AsyncSession, settings: Settings, clock: Clock, zone: ZoneInfo, token: str, lang: str | None
) -> Response:
    """The form, the scores once answered, or why the link does not open the questionnaire."""
    opened = await _open(session, settings, clock, zone, token, lang)
    if isinstance(opened, Response):
        return opened
    invitation, invitee, page = opened
    if invitee.answered is None:
        return pages.form_page(page, invitation.version, invitation.expires_at, submission=str(uuid.uuid4()))
    return _answered_page(page, invitation, invitee, status.HTTP_200_OK)


async def answer_form(
    request: Request, write: IdempotentWrite, session: AsyncSession, settings: Settings, clock: Clock,
    outbox: Outbox, zone: ZoneInfo, token: str,
) -> Response:
    """The posted form: the scores (201), the form again with what to correct (422), or what the
    questionnaire is now when it was answered meanwhile or is closed (409, 410)."""
    form = await request.form()
    opened = await _open(session, settings, clock, zone, token, _text(form, "lang"))
    if isinstance(opened, Response):
        return opened
    invitation, _, page = opened
    answers = answers_from_form(form, invitation.version)
    submission = _text(form, "submission")
    try:
        check_answers(answers, invitation.version)
    except Invalid as refused:
        return pages.form_page(page, invitation.version, invitation.expires_at,
                               submission=submission or str(uuid.uuid4()), answers=answers,
                               problems=item_problems(refused.problems, answers, invitation.version))
    # The answers are the payload, as a JSON submission's body: a repeat is recognised by its
    # answers, whatever else the form held.
    payload = json.dumps({"answers": answers}, sort_keys=True).encode()
    try:
        answer = await submit(write, invitation.company_id, invitation.stage, invitation.version, answers,
                              entered_by="company", hub_id=settings.hub_id, clock=clock, outbox=outbox,
                              key=_submission_key(invitation, submission), payload=payload)
    except (Conflict, Invalid):
        # Answered meanwhile (another tab, or the same form sent back with other answers), or
        # closed: the page says what the company's questionnaire is now. The read so far ends
        # first, so that what is read now is what was committed since.
        await session.rollback()
        invitee = await invitee_of(session, settings.hub_id, invitation)
        return _answered_page(page, invitation, invitee, status.HTTP_409_CONFLICT)
    # The first answer, or the one stored for this submission id (the same form sent twice).
    scores = answer if isinstance(answer, AssessmentPublic) else AssessmentPublic.model_validate_json(
        bytes(answer.body))
    result = pages.Result(
        dimensions={d: Decimal(str(v)) for d, v in scores.dimensions.model_dump().items()},
        overall=Decimal(str(scores.overall)), band=scores.band,
    )
    return pages.result_page(page, invitation.version, result, just_sent=True,
                             status_code=status.HTTP_201_CREATED)


async def _open(
    session: AsyncSession, settings: Settings, clock: Clock, zone: ZoneInfo, token: str, lang: str | None
) -> tuple[Invitation, Invitee, pages.Page] | Response:
    """What a link opens, or the page that says why it opens nothing: an invalid or expired
    link, an unknown company, or a questionnaire that is closed or not open yet."""
    hub = hub_name(settings)
    try:
        invitation = check_link_token(settings, clock, token)
    except LinkProblem as problem:
        code = status.HTTP_410_GONE if problem.kind == "expired" else status.HTTP_403_FORBIDDEN
        return pages.notice_page(problem.kind, code, hub)
    try:
        invitee = await invitee_of(session, settings.hub_id, invitation)
    except NotFound:
        # A valid signature on a company this hub does not know: a link that opens nothing.
        return pages.notice_page("invalid", status.HTTP_404_NOT_FOUND, hub)
    language = next((known for known in domain.LANGUAGES if known == lang), invitee.language)
    page = pages.Page(token=token, language=language, hub=hub, company=invitee.name, stage=invitation.stage,
                      zone=zone)
    if invitee.closed is not None:
        kind, code = _CLOSED[invitee.closed]
        return pages.notice_page(kind, code, hub, page)
    return invitation, invitee, page


def _answered_page(page: pages.Page, invitation: Invitation, invitee: Invitee, code: int) -> Response:
    if invitee.closed is not None or invitee.answered is None:
        kind, code = _CLOSED[invitee.closed] if invitee.closed else ("invalid", status.HTTP_409_CONFLICT)
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
