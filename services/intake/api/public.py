"""The company's own questionnaire link: staff create it (`staff`), and the company, without an
account, opens it and sends its answers (`router`); `links` makes and reads its token.

The same URL serves two kinds of client. A browser (it asks for text/html first) gets the
questionnaire as a web page in the company's language and posts it as a plain HTML form
(`questionnaire_page`); an API client (application/json, `*/*` or no Accept) gets and posts JSON,
as before the page existed. Both submissions go through `assessments.submit`: the same checks,
scores, 409 rules, event and `Idempotency-Key` handling.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from sqlmodel import SQLModel

from services.intake import domain
from services.intake.api import questionnaire_page
from services.intake.api.assessments import submit
from services.intake.api.common import StaffWriter, ZoneDep
from services.intake.records import AssessmentAnswers, AssessmentPublic
from services.intake.use_cases import questionnaire
from services.intake.use_cases.questionnaire import Link
from shared.contracts.intake import AssessmentStage
from shared.service import ClockDep, IdempotentDep, OutboxDep, ReadingDep, SettingsDep

router = APIRouter(prefix="/questionnaire", tags=["questionnaire (public)"])
staff = APIRouter(tags=["questionnaire (public)"])

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_LANGUAGE = TypeAdapter(domain.Language | None)


class LinkRequest(SQLModel):
    stage: AssessmentStage


@staff.post("/companies/{company_id}/questionnaire-link", status_code=201, response_model=Link)
async def create_link(
    company_id: str, body: LinkRequest, session: ReadingDep, settings: SettingsDep, clock: ClockDep,
    staff: StaffWriter,
) -> Link:
    """A link for the company to fill in the T0 or T1 questionnaire itself."""
    return await questionnaire.create_link(session, company_id, body.stage, settings=settings, clock=clock,
                                           staff=staff)


@router.get(
    "/{token}", response_model=None,
    responses={200: {"description": "The questionnaire: a web page for a browser, else JSON in one language.",
                     "content": {"text/html": {}}},
               403: {"description": "A forged, expired or other token (a browser gets a page saying "
                                    "so: 403 for a forged or other token, 410 for an expired one)."},
               409: {"description": "A browser's page: the questionnaire is not open yet."},
               410: {"description": "A browser's page: the link expired or the company left."}},
)
async def read_questionnaire(
    token: str, request: Request, session: ReadingDep, settings: SettingsDep, clock: ClockDep, zone: ZoneDep,
    lang: str | None = Query(None, description="nl or en; the contact's language by default."),
) -> Response | dict[str, object]:
    """The questionnaire in the company contact's language, with the stage and company name."""
    if _wants_page(request):
        return await questionnaire_page.open_link(session, settings, clock, zone, token, lang)
    try:
        language = _LANGUAGE.validate_python(lang)
    except ValidationError as error:
        errors = [{**e, "loc": ("query", "lang")} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors) from None
    invitation = questionnaire.invitation_of(settings, clock, token)
    return await questionnaire.read_questionnaire(session, settings.hub_id, invitation, language)


@router.post(
    "/{token}", status_code=201, response_model=AssessmentPublic,
    responses={409: {"description": "A T1 before the T0, or a stage already answered."},
               422: {"description": "Invalid answers, every offending item named (the form: shown again)."}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": AssessmentAnswers.model_json_schema()},
        "application/x-www-form-urlencoded": {"schema": {
            "type": "object", "description": "The questionnaire page's form: one field per ticked box or "
            "chosen button (`q2.1`, `q1.1.invested`, `q4.1`=0..5, `q11.1`=no/partially/yes), `lang`, "
            "and `submission` (the page's submission id)."}},
    }}},
)
async def answer_questionnaire(
    token: str, request: Request, write: IdempotentDep, session: ReadingDep, settings: SettingsDep,
    clock: ClockDep, outbox: OutboxDep, zone: ZoneDep,
) -> AssessmentPublic | Response:
    """The company's answers: scored and stored like staff-entered ones (422 / 409 store nothing).
    The page's form is answered with a page: the scores, or the form again with what to correct."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in FORM_TYPES:
        return await questionnaire_page.answer_form(request, write, session, settings, clock, outbox, zone,
                                                    token)
    invitation = questionnaire.invitation_of(settings, clock, token)
    body = await _answers_json(request)
    return await submit(write, invitation.company_id, invitation.stage, invitation.version, body.answers,
                        entered_by="company", hub_id=settings.hub_id, clock=clock, outbox=outbox)


def _wants_page(request: Request) -> bool:
    """True for a browser: it prefers text/html to application/json (an API client sends
    application/json, `*/*` or nothing, and gets the JSON it always got)."""
    accept = request.headers.get("accept", "")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type`, from its most specific matching range."""
    ranges = {media_type: 2, media_type.split("/")[0] + "/*": 1, "*/*": 0}
    best, quality = -1, 0.0
    for part in accept.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        specificity = ranges.get(name.lower(), -1)
        if specificity <= best:
            continue
        best, quality = specificity, 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
    return quality


async def _answers_json(request: Request) -> AssessmentAnswers:
    """The JSON body as FastAPI would validate it, with the same 422 for what is not."""
    raw = await request.body()
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required",
                                       "input": None}])
    try:
        return AssessmentAnswers.model_validate(json.loads(raw))
    except json.JSONDecodeError as error:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", error.pos),
                                       "msg": "JSON decode error", "input": {},
                                       "ctx": {"error": error.msg}}]) from None
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None
