"""HTTP routes of notifications: the delivery log and opt-outs for staff, template previews, and
the public unsubscribe page a contact reaches from a message (no account: the link's signed token
is the credential).

The unsubscribe page asks before it records (GET shows a button, POST records), because mail
scanners follow links; mail clients' one-click unsubscribe (RFC 8058) POSTs directly.
"""

from __future__ import annotations

import functools
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from services.notifications import domain, unsubscribe
from services.notifications.domain import Language
from services.notifications.mail import hub_name
from services.notifications.models import (
    AttemptPublic,
    Delivery,
    DeliveryAttempt,
    DeliveryPublic,
    OptOut,
    Status,
)
from services.notifications.rendering import RenderedMessage, Templates
from shared.auth import Principal, require
from shared.contracts.notifications import MessageType
from shared.db import insert_ignoring_duplicates
from shared.service import ContextDep

router = APIRouter(tags=["deliveries"])
public = APIRouter(tags=["public"])

StaffDep = Annotated[Principal, Depends(require("admin", "advisor", "viewer"))]


@functools.cache
def templates(timezone: str) -> Templates:
    """The templates writing dates in `timezone` (the hub's business timezone), built once."""
    return Templates(timezone)

PAGE_TEXTS = {
    "nl": {
        "confirm": ("Afmelden", "Wilt u geen herinneringen en nieuws meer van ons ontvangen? Berichten die "
                    "nodig zijn voor uw deelname (zoals bevestigingen) blijft u ontvangen.", "Afmelden"),
        "done": ("U bent afgemeld", "U ontvangt geen herinneringen en nieuws meer van ons.", ""),
        "invalid": ("Deze link werkt niet meer", "De afmeldlink is verlopen of ongeldig. Antwoord op een "
                    "van onze e-mails, dan melden wij u af.", ""),
    },
    "en": {
        "confirm": ("Unsubscribe", "Stop receiving reminders and news from us? You will still receive "
                    "the messages your participation needs (such as confirmations).", "Unsubscribe"),
        "done": ("You are unsubscribed", "You will no longer receive reminders and news from us.", ""),
        "invalid": ("This link no longer works", "The unsubscribe link has expired or is invalid. Reply "
                    "to one of our e-mails and we will unsubscribe you.", ""),
    },
}


@router.get("/deliveries", response_model=list[DeliveryPublic])
async def list_deliveries(
    ctx: ContextDep,
    who: StaffDep,
    company_id: Annotated[str | None, Query(min_length=1, description="Only this company.")] = None,
    status: Annotated[Status | None, Query(description="Only messages in this status, e.g. failed.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[DeliveryPublic]:
    """Messages with their status and every attempt: a company's oldest first, or the newest
    `limit` of all companies (e.g. `?status=failed`). An advisor sees those of their regions only;
    a message whose request named no region is for administrators and viewers."""
    query = select(Delivery)
    if who.role == "advisor":
        # Outside an advisor's regions a company's messages read as absent, as in the console.
        query = query.where(col(Delivery.region).in_(who.regions))
    if company_id is not None:
        query = query.where(col(Delivery.company_id) == company_id)
    if status is not None:
        query = query.where(col(Delivery.status) == status)
    if company_id is None:
        query = query.order_by(col(Delivery.id).desc()).limit(limit)
    else:
        query = query.order_by(col(Delivery.created_at), col(Delivery.id)).limit(limit)
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


@router.get("/opt-outs", response_model=list[OptOut])
async def list_opt_outs(
    ctx: ContextDep, _: StaffDep, company_id: Annotated[str, Query(min_length=1)]
) -> list[OptOut]:
    """Who at a company opted out of non-essential messages, and when."""
    async with ctx.db.reading() as session:
        rows = await session.execute(select(OptOut).where(col(OptOut.company_id) == company_id))
        return list(rows.scalars().all())


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
    hub_templates = templates(ctx.settings.business_timezone)
    rendered = hub_templates.sample(message_type, language, hub_name(ctx.settings))
    if part == "html":
        return HTMLResponse(rendered.html)
    if part == "text":
        return HTMLResponse(rendered.text, media_type="text/plain")
    return rendered


def _page(ctx: ContextDep, language: str, state: str, token: str = "", status: int = 200) -> HTMLResponse:
    lang = "en" if language == "en" else "nl"
    title, message, button = PAGE_TEXTS[lang][state]
    html = templates(ctx.settings.business_timezone).env.get_template("_unsubscribe-page.html").render(
        lang=lang, state=state, hub_name=hub_name(ctx.settings),
        t={"title": title, "message": message, "button": button},
        action=unsubscribe.link(ctx.settings, token) if token else "",
    )
    return HTMLResponse(html, status_code=status)


@public.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(ctx: ContextDep, token: Annotated[str, Query()] = "") -> HTMLResponse:
    """The page an unsubscribe link opens: it asks to confirm."""
    try:
        request = unsubscribe.read(ctx.settings, token)
    except jwt.InvalidTokenError:
        return _page(ctx, "nl", "invalid", status=400)
    return _page(ctx, request.language, "confirm", token)


@public.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_confirmed(ctx: ContextDep, token: Annotated[str, Query()] = "") -> HTMLResponse:
    """Record the opt-out of non-essential messages (repeating it changes nothing)."""
    try:
        request = unsubscribe.read(ctx.settings, token)
    except jwt.InvalidTokenError:
        return _page(ctx, "nl", "invalid", status=400)
    async with ctx.db.transaction() as session:
        await insert_ignoring_duplicates(
            session, OptOut,
            {"hub_id": ctx.settings.hub_id, "company_id": request.company_id,
             "recipient_service": request.recipient.service, "recipient_kind": request.recipient.kind,
             "recipient_ref_id": request.recipient.id, "opted_out_at": ctx.clock.now(),
             "source": "unsubscribe-link", "notification_id": request.notification_id},
            conflict_on=["recipient_service", "recipient_kind", "recipient_ref_id"],
        )
    return _page(ctx, request.language, "done")
