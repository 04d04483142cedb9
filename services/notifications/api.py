"""HTTP routes of notifications: the delivery log and opt-outs for staff (who may undo an opt-out,
with a reason), template previews, and the public pages a contact reaches from a message to
unsubscribe and to undo it (no account: the link's signed token is the credential).

The unsubscribe page asks before it records (GET shows a button, POST records), because mail
scanners follow links; mail clients' one-click unsubscribe (RFC 8058) POSTs directly. The page that
confirms an opt-out offers the way back: a form that POSTs a resubscribe link of its own.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.notifications import domain, opt_outs, unsubscribe
from services.notifications.domain import Language
from services.notifications.models import (
    AttemptPublic,
    Delivery,
    DeliveryAttempt,
    DeliveryPublic,
    OptOut,
    OptOutPublic,
    OptOutWithdrawal,
    Status,
)
from services.notifications.rendering import RenderedMessage, templates_for
from shared.auth import Principal, require
from shared.clock import SystemClock
from shared.contracts.notifications import MessageType
from shared.idempotency import run_idempotent
from shared.service import ContextDep
from shared.settings import hub_name

log = logging.getLogger(__name__)

router = APIRouter(tags=["deliveries"])
public = APIRouter(tags=["public"])

StaffDep = Annotated[Principal, Depends(require("admin", "advisor", "viewer"))]
StaffWriter = Annotated[Principal, Depends(require("admin", "advisor"))]
CompanyFilter = Annotated[str | None, Query(min_length=1, description="Only this company.")]
Limit = Annotated[int, Query(ge=1, le=1000)]


# The texts of the public pages, per language and state: title, message, and where the page has a
# form, its button (and for the confirmation of an opt-out, the line that offers the way back).
PAGE_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "nl": {
        "confirm": {"title": "Afmelden", "button": "Afmelden",
                    "message": "Wilt u geen herinneringen en nieuws meer van ons ontvangen? Berichten die "
                               "nodig zijn voor uw deelname (zoals bevestigingen) blijft u ontvangen."},
        "done": {"title": "U bent afgemeld", "button": "Deze berichten weer ontvangen",
                 "message": "U ontvangt geen herinneringen en nieuws meer van ons.",
                 "undo": "Per ongeluk afgemeld, of wilt u ze toch weer ontvangen?"},
        "resubscribed": {"title": "U ontvangt onze berichten weer",
                         "message": "U ontvangt weer herinneringen en nieuws van ons. Afmelden kan altijd "
                                    "via de link onder aan elk bericht."},
        "invalid": {"title": "Deze link werkt niet meer",
                    "message": "De afmeldlink is verlopen of ongeldig. Antwoord op een van onze e-mails, "
                               "dan melden wij u af."},
        "invalid-resubscribe": {"title": "Deze link werkt niet meer",
                                "message": "De link is verlopen of ongeldig. Antwoord op een van onze "
                                           "e-mails, dan zorgen wij dat u onze berichten weer ontvangt."},
    },
    "en": {
        "confirm": {"title": "Unsubscribe", "button": "Unsubscribe",
                    "message": "Stop receiving reminders and news from us? You will still receive the "
                               "messages your participation needs (such as confirmations)."},
        "done": {"title": "You are unsubscribed", "button": "Receive these messages again",
                 "message": "You will no longer receive reminders and news from us.",
                 "undo": "Unsubscribed by mistake, or would you like them after all?"},
        "resubscribed": {"title": "You will receive our messages again",
                         "message": "You will receive reminders and news from us again. You can "
                                    "unsubscribe at any time with the link at the bottom of each message."},
        "invalid": {"title": "This link no longer works",
                    "message": "The unsubscribe link has expired or is invalid. Reply to one of our "
                               "e-mails and we will unsubscribe you."},
        "invalid-resubscribe": {"title": "This link no longer works",
                                "message": "The link has expired or is invalid. Reply to one of our "
                                           "e-mails and we will make sure you receive our messages again."},
    },
}


def _visible(model: type[Delivery] | type[OptOut], who: Principal, company_id: str | None, limit: int,
             oldest_first_by: Any) -> Select[Any]:
    """The rows of `model` the staff member may see: a company's oldest first, or the newest
    `limit` of all companies. An advisor sees those of their regions only; outside them a company's
    rows read as absent, as in the console, and a row without a region is for administrators and
    viewers, since nothing says which advisor may see it."""
    query: Select[Any] = select(model)
    if who.role == "advisor":
        query = query.where(col(model.region).in_(who.regions))
    if company_id is None:
        return query.order_by(col(model.id).desc()).limit(limit)
    return query.where(col(model.company_id) == company_id).order_by(col(oldest_first_by),
                                                                      col(model.id)).limit(limit)


@router.get("/deliveries", response_model=list[DeliveryPublic])
async def list_deliveries(
    ctx: ContextDep,
    who: StaffDep,
    company_id: CompanyFilter = None,
    status: Annotated[Status | None, Query(description="Only messages in this status, e.g. failed.")] = None,
    limit: Limit = 200,
) -> list[DeliveryPublic]:
    """Messages with their status and every attempt: a company's oldest first, or the newest
    `limit` of all companies (e.g. `?status=failed`). An advisor sees those of their regions only;
    a message whose request named no region is for administrators and viewers."""
    query = _visible(Delivery, who, company_id, limit, Delivery.created_at)
    if status is not None:
        query = query.where(col(Delivery.status) == status)
    async with ctx.db.reading() as session:
        rows = (await session.execute(query)).scalars().all()
        attempts = (await session.execute(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.delivery_id).in_([d.id for d in rows]))
            .order_by(col(DeliveryAttempt.id))
        )).scalars().all()
    history: dict[int, list[AttemptPublic]] = {}
    for attempt in attempts:
        history.setdefault(attempt.delivery_id, []).append(AttemptPublic.model_validate(attempt,
                                                                                        from_attributes=True))
    return [_public(d, history.get(d.id or 0, [])) for d in rows]


def _public(delivery: Delivery, history: list[AttemptPublic]) -> DeliveryPublic:
    policy = domain.policy(delivery.message_type, delivery.urgency)
    return DeliveryPublic.model_validate(delivery, from_attributes=True, update={
        "history": history, "timing": policy.timing, "essential": policy.essential,
    })


@router.get("/opt-outs", response_model=list[OptOutPublic])
async def list_opt_outs(
    ctx: ContextDep, who: StaffDep, company_id: CompanyFilter = None, limit: Limit = 200
) -> list[OptOutPublic]:
    """Who opted out of non-essential messages, when, and whether and how it was undone (an undone
    opt-out stays listed): a company's oldest first, or the newest `limit` of all companies. An
    advisor sees those of their regions only; one without a region is for administrators and
    viewers."""
    async with ctx.db.reading() as session:
        rows = await session.execute(_visible(OptOut, who, company_id, limit, OptOut.opted_out_at))
        return [opt_outs.public(row) for row in rows.scalars().all()]


@router.post("/opt-outs/{opt_out_id}/withdrawal", response_model=OptOutPublic)
async def withdraw_opt_out(
    opt_out_id: int, body: OptOutWithdrawal, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Undo an opt-out, with the reason (the person asked by phone, it was recorded by mistake): the
    person gets non-essential messages again. Who, when and why are kept with it. An advisor may do
    it for the opt-outs of their regions only (403 otherwise); 409 when it was undone already."""

    async def work(session: AsyncSession) -> tuple[int, Any]:
        opt_out = await session.get(OptOut, opt_out_id)
        if opt_out is None:
            raise HTTPException(404, f"no opt-out {opt_out_id}")
        if not staff.sees(opt_out.region):
            where = f"of region {opt_out.region}" if opt_out.region else "of no region"
            raise HTTPException(403, f"opt-out {opt_out_id} is {where}, outside "
                                "your regions: an administrator may withdraw it")
        withdrawn = await opt_outs.withdraw(session, opt_out_id, at=ctx.clock.now(), source="staff",
                                            by=staff.subject, reason=body.reason)
        await session.refresh(opt_out)
        if not withdrawn:
            by = opt_out.withdrawn_by or "the person, through their link"
            raise HTTPException(409, f"opt-out {opt_out_id} was withdrawn already, "
                                f"on {opt_out.withdrawn_at:%Y-%m-%d %H:%M} UTC by {by}")
        log.info("%s withdrew opt-out %s of company %s", staff.subject, opt_out_id, opt_out.company_id)
        return 200, opt_outs.public(opt_out).model_dump(mode="json")

    return await run_idempotent(ctx.db, ctx.clock, request, work, subject=lambda body: body["company_id"])


@router.get("/templates/{message_type}/{language}", response_model=None)
async def preview(
    ctx: ContextDep,
    _: StaffDep,
    message_type: MessageType,
    language: Language,
    part: Annotated[str | None, Query(pattern="^(html|text)$", description="Only this part, as is.")] = None,
) -> RenderedMessage | HTMLResponse:
    """A message type rendered in a language with sample data, as a recipient would see it: dates
    in the hub's timezone, the unsubscribe link only where the real message has one."""
    hub_templates = templates_for(ctx.settings.business_timezone)
    rendered = hub_templates.sample(message_type, language, hub_name(ctx.settings))
    if part == "html":
        return HTMLResponse(rendered.html)
    if part == "text":
        return HTMLResponse(rendered.text, media_type="text/plain")
    return rendered


def _page(ctx: ContextDep, language: str, state: str, action: str = "", status: int = 200) -> HTMLResponse:
    lang = "en" if language == "en" else "nl"
    html = templates_for(ctx.settings.business_timezone).env.get_template("_unsubscribe-page.html").render(
        lang=lang, hub_name=hub_name(ctx.settings), t=PAGE_TEXTS[lang][state], action=action,
    )
    return HTMLResponse(html, status_code=status)


def _unsubscribed(ctx: ContextDep, link: unsubscribe.UnsubscribeRequest, person: str) -> HTMLResponse:
    """The page that confirms the opt-out, with the way back: a resubscribe link for its person."""
    token = unsubscribe.resubscribe_token(ctx.settings, link, person=person, now=SystemClock().now())
    return _page(ctx, link.language, "done", unsubscribe.resubscribe_link(ctx.settings, token))


@public.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(ctx: ContextDep, token: Annotated[str, Query()] = "") -> HTMLResponse:
    """The page an unsubscribe link opens: it asks to confirm, or, for a person who opted out
    already, says so and offers the way back."""
    try:
        link = unsubscribe.read(ctx.settings, token)
    except jwt.InvalidTokenError:
        return _page(ctx, "nl", "invalid", status=400)
    async with ctx.db.reading() as session:
        found = await opt_outs.link_person(session, ctx.settings, link)
    if found.held_back:
        return _unsubscribed(ctx, link, found.person)
    return _page(ctx, link.language, "confirm", unsubscribe.link(ctx.settings, token))


@public.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_confirmed(ctx: ContextDep, token: Annotated[str, Query()] = "") -> HTMLResponse:
    """Record the opt-out of non-essential messages (repeating it changes nothing)."""
    try:
        link = unsubscribe.read(ctx.settings, token)
    except jwt.InvalidTokenError:
        return _page(ctx, "nl", "invalid", status=400)
    async with ctx.db.transaction() as session:
        person = await opt_outs.record(session, ctx.settings, link, ctx.clock.now())
    return _unsubscribed(ctx, link, person)


@public.get("/resubscribe", response_class=HTMLResponse)
async def resubscribe_page(ctx: ContextDep, token: Annotated[str, Query()] = "") -> HTMLResponse:
    """A resubscribe link opened rather than submitted (a reload, a copied address): the button
    while an opt-out still holds the person back, else that they receive the messages."""
    try:
        link = unsubscribe.read(ctx.settings, token, unsubscribe.RESUBSCRIBE)
    except jwt.InvalidTokenError:
        return _page(ctx, "nl", "invalid-resubscribe", status=400)
    async with ctx.db.reading() as session:
        found = await opt_outs.link_person(session, ctx.settings, link)
    if found.held_back:
        return _page(ctx, link.language, "done", unsubscribe.resubscribe_link(ctx.settings, token))
    return _page(ctx, link.language, "resubscribed")


@public.post("/resubscribe", response_class=HTMLResponse)
async def resubscribe_confirmed(ctx: ContextDep, token: Annotated[str, Query()] = "") -> HTMLResponse:
    """The person wants non-essential messages again: their opt-out is undone, recorded with when
    and through which message's link (repeating it changes nothing)."""
    try:
        link = unsubscribe.read(ctx.settings, token, unsubscribe.RESUBSCRIBE)
    except jwt.InvalidTokenError:
        return _page(ctx, "nl", "invalid-resubscribe", status=400)
    async with ctx.db.transaction() as session:
        await opt_outs.resubscribe(session, ctx.settings, link, ctx.clock.now())
    return _page(ctx, link.language, "resubscribed")
