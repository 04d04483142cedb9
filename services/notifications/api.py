"""HTTP routes of notifications: the delivery log and opt-outs for staff (who may undo an opt-out,
with a reason), template previews, and the public pages a contact reaches from a message to
unsubscribe and to undo it (no account: the link's signed token is the credential).

The unsubscribe page asks before it records (GET shows a button, POST records), because mail
scanners follow links; mail clients' one-click unsubscribe (RFC 8058) POSTs directly. The page that
confirms an opt-out offers the way back: a form that POSTs a resubscribe link of its own.
"""

from __future__ import annotations

import logging
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from services.notifications import opt_outs, unsubscribe, use_cases
from services.notifications.domain import Language
from services.notifications.models import DeliveryPublic, OptOutPublic, OptOutWithdrawal, Status
from services.notifications.rendering import RenderedMessage, templates_for
from shared.auth import Principal, require
from shared.clock import SystemClock
from shared.contracts.notifications import MessageType
from shared.service import ClockDep, IdempotentDep, ReadingDep, SessionDep, SettingsDep
from shared.settings import Settings, hub_name

log = logging.getLogger(__name__)

router = APIRouter(tags=["deliveries"])
public = APIRouter(tags=["public"])

StaffDep = Annotated[Principal, Depends(require("admin", "advisor", "viewer"))]
StaffWriter = Annotated[Principal, Depends(require("admin", "advisor"))]
CompanyFilter = Annotated[str | None, Query(min_length=1, description="Only this company.")]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/deliveries", response_model=list[DeliveryPublic])
async def list_deliveries(
    session: ReadingDep,
    who: StaffDep,
    company_id: CompanyFilter = None,
    status: Annotated[Status | None, Query(description="Only messages in this status, e.g. failed.")] = None,
    limit: Limit = 200,
) -> list[DeliveryPublic]:
    """Messages with their status and every attempt: a company's oldest first, or the newest
    `limit` of all companies (e.g. `?status=failed`). An advisor sees those of their regions only;
    a message whose request named no region is for administrators and viewers."""
    return await use_cases.list_deliveries(session, who, company_id=company_id, status=status, limit=limit)


@router.get("/opt-outs", response_model=list[OptOutPublic])
async def list_opt_outs(
    session: ReadingDep, who: StaffDep, company_id: CompanyFilter = None, limit: Limit = 200
) -> list[OptOutPublic]:
    """Who opted out of non-essential messages, when, and whether and how it was undone (an undone
    opt-out stays listed): a company's oldest first, or the newest `limit` of all companies. An
    advisor sees those of their regions only; one without a region is for administrators and
    viewers."""
    return await use_cases.list_opt_outs(session, who, company_id=company_id, limit=limit)


@router.post("/opt-outs/{opt_out_id}/withdrawal", response_model=OptOutPublic)
async def withdraw_opt_out(
    opt_out_id: int, body: OptOutWithdrawal, staff: StaffWriter, write: IdempotentDep, clock: ClockDep
) -> OptOutPublic | Response:
    """Undo an opt-out, with the reason (the person asked by phone, it was recorded by mistake): the
    person gets non-essential messages again. Who, when and why are kept with it. An advisor may do
    it for the opt-outs of their regions only (403 otherwise); 409 when it was undone already."""
    return await write(
        lambda session: use_cases.withdraw_opt_out(session, opt_out_id, body, staff=staff, clock=clock),
        subject=lambda answer: answer.company_id,
    )


@router.get("/templates/{message_type}/{language}", response_model=None)
async def preview(
    settings: SettingsDep,
    _: StaffDep,
    message_type: MessageType,
    language: Language,
    part: Annotated[str | None, Query(pattern="^(html|text)$", description="Only this part, as is.")] = None,
) -> RenderedMessage | HTMLResponse:
    """A message type rendered in a language with sample data, as a recipient would see it: dates
    in the hub's timezone, the unsubscribe link only where the real message has one."""
    hub_templates = templates_for(settings.business_timezone)
    rendered = hub_templates.sample(message_type, language, hub_name(settings))
    if part == "html":
        return HTMLResponse(rendered.html)
    if part == "text":
        return HTMLResponse(rendered.text, media_type="text/plain")
    return rendered


def _page(settings: Settings, language: str, state: str, action: str = "", status: int = 200) -> HTMLResponse:
    lang = "en" if language == "en" else "nl"
    html = templates_for(settings.business_timezone).env.get_template("_unsubscribe-page.html").render(
        lang=lang, hub_name=hub_name(settings), state=state, action=action,
    )
    return HTMLResponse(html, status_code=status)


def _unsubscribed(settings: Settings, link: unsubscribe.UnsubscribeRequest, person: str) -> HTMLResponse:
    """The page that confirms the opt-out, with the way back: a resubscribe link for its person."""
    token = unsubscribe.resubscribe_token(settings, link, person=person, now=SystemClock().now())
    return _page(settings, link.language, "done", unsubscribe.resubscribe_link(settings, token))


@public.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(
    settings: SettingsDep, session: ReadingDep, token: Annotated[str, Query()] = ""
) -> HTMLResponse:
    """The page an unsubscribe link opens: it asks to confirm, or, for a person who opted out
    already, says so and offers the way back."""
    try:
        link = unsubscribe.read(settings, token)
    except jwt.InvalidTokenError:
        return _page(settings, "nl", "invalid", status=400)
    found = await opt_outs.link_person(session, settings, link)
    if found.held_back:
        return _unsubscribed(settings, link, found.person)
    return _page(settings, link.language, "confirm", unsubscribe.link(settings, token))


@public.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_confirmed(
    settings: SettingsDep, session: SessionDep, clock: ClockDep, token: Annotated[str, Query()] = ""
) -> HTMLResponse:
    """Record the opt-out of non-essential messages (repeating it changes nothing)."""
    try:
        link = unsubscribe.read(settings, token)
    except jwt.InvalidTokenError:
        return _page(settings, "nl", "invalid", status=400)
    person = await opt_outs.record(session, settings, link, clock.now())
    return _unsubscribed(settings, link, person)


@public.get("/resubscribe", response_class=HTMLResponse)
async def resubscribe_page(
    settings: SettingsDep, session: ReadingDep, token: Annotated[str, Query()] = ""
) -> HTMLResponse:
    """A resubscribe link opened rather than submitted (a reload, a copied address): the button
    while an opt-out still holds the person back, else that they receive the messages."""
    try:
        link = unsubscribe.read(settings, token, unsubscribe.RESUBSCRIBE)
    except jwt.InvalidTokenError:
        return _page(settings, "nl", "invalid-resubscribe", status=400)
    found = await opt_outs.link_person(session, settings, link)
    if found.held_back:
        return _page(settings, link.language, "done", unsubscribe.resubscribe_link(settings, token))
    return _page(settings, link.language, "resubscribed")


@public.post("/resubscribe", response_class=HTMLResponse)
async def resubscribe_confirmed(
    settings: SettingsDep, session: SessionDep, clock: ClockDep, token: Annotated[str, Query()] = ""
) -> HTMLResponse:
    """The person wants non-essential messages again: their opt-out is undone, recorded with when
    and through which message's link (repeating it changes nothing)."""
    try:
        link = unsubscribe.read(settings, token, unsubscribe.RESUBSCRIBE)
    except jwt.InvalidTokenError:
        return _page(settings, "nl", "invalid-resubscribe", status=400)
    await opt_outs.resubscribe(session, settings, link, clock.now())
    return _page(settings, link.language, "resubscribed")
