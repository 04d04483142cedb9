"""The console's routes: sign-in and sign-out, the companies list, a company with its timeline, the
caught mail, and the JSON read of a company for bearer tokens."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import col, select

from services.console import domain
from services.console.auth import (
    COOKIE,
    StaffDep,
    authenticate,
    first_administrator,
    safe_next,
    sign_in,
    sign_out,
    staff_by_id,
    staff_for_region,
)
from services.console.mail import list_mail, read_mail
from services.console.models import (
    CompanyPublic,
    CompanyView,
    StaffRecipient,
    TimelineEntry,
    TimelineEntryPublic,
)
from shared.auth import Principal, require
from shared.service import ContextDep, ServiceContext
from shared.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter()
api_reader = require("admin", "advisor", "viewer", "service")
service_only = require("service")


def make_templates(settings: Settings) -> Jinja2Templates:
    """The page templates, showing moments in the hub's timezone (staff read local time)."""
    templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
    zone = ZoneInfo(settings.business_timezone)
    filters = templates.env.filters
    filters["stage_label"] = domain.stage_label
    filters["cohort_label"] = lambda status: domain.COHORT_LABELS.get(status or "", status or "")
    filters["moment"] = lambda at: at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if at else ""
    return templates


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # Pages show company data: keep them out of shared caches and other sites' frames.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", next=safe_next(next), email="", error=None)


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    ctx: ContextDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    account = await authenticate(ctx, email, password)
    if account is None:
        log.warning("console sign-in refused for %s", email)
        return render(request, "login.html", status_code=401, next=safe_next(next), email=email,
                      error="Wrong e-mail address or password.")
    log.info("console sign-in by %s (%s)", account.email, account.role)
    response = RedirectResponse(safe_next(next), status_code=303)
    sign_in(response, ctx.settings, account)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    if request.cookies.get(COOKIE):
        sign_out(response)
    return response


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def companies(request: Request, ctx: ContextDep, staff: StaffDep) -> HTMLResponse:
    query = select(CompanyView).order_by(
        col(CompanyView.registered_at).desc().nulls_last(), col(CompanyView.company_id)
    )
    if staff.role == "advisor":
        query = query.where(col(CompanyView.region).in_(staff.regions))
    async with ctx.db.reading() as session:
        rows = (await session.execute(query)).scalars().all()
    return render(request, "companies.html", staff=staff, companies=rows)


@router.get("/companies/{company_id}", response_class=HTMLResponse, include_in_schema=False)
async def company_page(
    request: Request, company_id: str, ctx: ContextDep, staff: StaffDep
) -> HTMLResponse:
    view, timeline = await _company(ctx, staff, company_id)
    return render(request, "company.html", staff=staff, company=view, timeline=timeline)


@router.get("/mail", response_class=HTMLResponse, include_in_schema=False)
async def mail_list(request: Request, ctx: ContextDep, staff: StaffDep) -> HTMLResponse:
    mails = await asyncio.to_thread(list_mail, ctx.settings.mail_dir)
    return render(request, "mail.html", staff=staff, mails=mails, maildir=ctx.settings.mail_dir)


@router.get("/mail/{key}", response_class=HTMLResponse, include_in_schema=False)
async def mail_message(request: Request, key: str, ctx: ContextDep, staff: StaffDep) -> HTMLResponse:
    mail = await asyncio.to_thread(read_mail, ctx.settings.mail_dir, key)
    if mail is None:
        raise HTTPException(404, f"no message {key!r} in the mail catcher's Maildir")
    return render(request, "mail_message.html", staff=staff, mail=mail)


@router.get("/api/companies/{company_id}", tags=["companies"])
async def company_json(
    company_id: str, ctx: ContextDep, caller: Annotated[Principal, Depends(api_reader)]
) -> CompanyPublic:
    """A company's registration facts, journey stage and timeline (newest first)."""
    view, timeline = await _company(ctx, caller, company_id)
    return CompanyPublic(
        **view.model_dump(),
        stage_label=domain.stage_label(view.stage),
        timeline=[TimelineEntryPublic(type=e.type, summary=e.summary, at=e.at) for e in timeline],
    )


@router.get("/internal/recipients/{kind}/{staff_id}", tags=["internal"])
async def recipient(
    kind: str, staff_id: str, ctx: ContextDep, caller: Annotated[Principal, Depends(service_only)]
) -> StaffRecipient:
    """Name, e-mail and language of a staff member, for notifications at send time: `advisor` by
    staff id, `region-staff` by region (its first advisor, else the first administrator), or
    `administrators` by hub id (the hub's first administrator)."""
    if kind == "advisor":
        account = await staff_by_id(ctx, staff_id)
    elif kind == "region-staff":
        account = await staff_for_region(ctx, staff_id)
    elif kind == "administrators":
        account = await first_administrator(ctx) if staff_id == ctx.settings.hub_id else None
    else:
        raise HTTPException(404, f"no recipient kind {kind!r}; the console knows advisor, region-staff, "
                                 "administrators")
    if account is None:
        raise HTTPException(404, f"no staff account for {kind} {staff_id!r}")
    return StaffRecipient(name=account.name or account.email, email=account.email,
                          language=account.language)


async def _company(
    ctx: ServiceContext, who: Principal, company_id: str
) -> tuple[CompanyView, list[TimelineEntry]]:
    async with ctx.db.reading() as session:
        view = await session.get(CompanyView, company_id)
        # Outside an advisor's regions a company reads as absent, not as forbidden.
        if view is None or not who.sees(view.region):
            raise HTTPException(404, f"no company {company_id}")
        query = (
            select(TimelineEntry)
            .where(TimelineEntry.company_id == company_id)
            .order_by(col(TimelineEntry.at).desc(), col(TimelineEntry.id).desc())
        )
        timeline = list((await session.execute(query)).scalars().all())
    return view, timeline
