"""The console's routes: sign-in and sign-out, the companies list, a company with its timeline, the
caught mail, the JSON read of a company for bearer tokens, and staff recipients for notifications.
Thin: what they read comes from `queries`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.console import domain, queries
from services.console.auth import COOKIE, StaffDep, authenticate, safe_next, sign_in, sign_out
from services.console.mail import list_mail, read_mail
from services.console.models import CompanyPublic, StaffRecipient, TimelineEntryPublic
from shared.auth import Principal, require
from shared.errors import NotFound
from shared.service import HubDep, ReadingDep, SettingsDep
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
    settings: SettingsDep,
    session: ReadingDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    account = await authenticate(session, email, password)
    if account is None:
        log.warning("console sign-in refused for %s", email)
        return render(request, "login.html", status_code=401, next=safe_next(next), email=email,
                      error="Wrong e-mail address or password.")
    log.info("console sign-in by %s (%s)", account.email, account.role)
    response = RedirectResponse(safe_next(next), status_code=303)
    sign_in(response, settings, account)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    if request.cookies.get(COOKIE):
        sign_out(response)
    return response


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def companies(request: Request, session: ReadingDep, staff: StaffDep) -> HTMLResponse:
    rows = await queries.companies_seen_by(session, staff)
    return render(request, "companies.html", staff=staff, companies=rows)


@router.get("/companies/{company_id}", response_class=HTMLResponse, include_in_schema=False)
async def company_page(
    request: Request, company_id: str, session: ReadingDep, staff: StaffDep
) -> HTMLResponse:
    view, timeline = await queries.company_with_timeline(session, staff, company_id)
    return render(request, "company.html", staff=staff, company=view, timeline=timeline)


@router.get("/mail", response_class=HTMLResponse, include_in_schema=False)
async def mail_list(request: Request, settings: SettingsDep, staff: StaffDep) -> HTMLResponse:
    mails = await asyncio.to_thread(list_mail, settings.mail_dir)
    return render(request, "mail.html", staff=staff, mails=mails, maildir=settings.mail_dir)


@router.get("/mail/{key}", response_class=HTMLResponse, include_in_schema=False)
async def mail_message(request: Request, key: str, settings: SettingsDep, staff: StaffDep) -> HTMLResponse:
    mail = await asyncio.to_thread(read_mail, settings.mail_dir, key)
    if mail is None:
        raise NotFound(f"no message {key!r} in the mail catcher's Maildir")
    return render(request, "mail_message.html", staff=staff, mail=mail)


@router.get("/api/companies/{company_id}", tags=["companies"])
async def company_json(
    company_id: str, session: ReadingDep, caller: Annotated[Principal, Depends(api_reader)]
) -> CompanyPublic:
    """A company's registration facts, journey stage and timeline (newest first)."""
    view, timeline = await queries.company_with_timeline(session, caller, company_id)
    return CompanyPublic(
        **view.model_dump(),
        stage_label=domain.stage_label(view.stage),
        timeline=[TimelineEntryPublic(type=e.type, summary=e.summary, at=e.at) for e in timeline],
    )


@router.get("/internal/recipients/{kind}/{staff_id}", tags=["internal"])
async def recipient(
    kind: str, staff_id: str, session: ReadingDep, hub_id: HubDep,
    caller: Annotated[Principal, Depends(service_only)],
) -> StaffRecipient:
    """Name, e-mail and language of a staff member, for notifications at send time: `advisor` by
    staff id, `region-staff` by region (its first advisor, else the first administrator), or
    `administrators` by hub id (the hub's first administrator)."""
    account = await queries.recipient(session, kind, staff_id, hub_id=hub_id)
    return StaffRecipient(name=account.name or account.email, email=account.email,
                          language=account.language)
