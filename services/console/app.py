"""Wiring of the console: its context, consumer, routes, templates and the first administrator."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.console.api import make_templates, render, router
from services.console.auth import SignInRequired, create_first_admin, redirect_to_login
from services.console.handlers import EVENT_TOPICS, HANDLERS, count_journeys_by_stage
from services.console.models import MODELS
from services.console.settings import ConsoleSettings
from shared.clock import Clock
from shared.service import ServiceContext, build_app
from shared.settings import Settings
from shared.tables import Schema

SERVICE = "console"
SCHEMA = Schema.of_package(SERVICE, MODELS, __file__)  # its tables; revisions in migrations/


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    settings = ConsoleSettings.of(settings)
    ctx = ServiceContext.create(SERVICE, settings, clock)
    ctx.consumer(EVENT_TOPICS, HANDLERS)
    app = build_app(
        ctx,
        schema=SCHEMA,
        routers=[router],
        title="EDIH operations console",
        on_start=_on_start,
    )
    app.state.templates = make_templates(settings)
    app.add_exception_handler(SignInRequired, redirect_to_login)
    app.add_exception_handler(StarletteHTTPException, _page_or_json_error)
    return app


async def _on_start(ctx: ServiceContext) -> None:
    await create_first_admin(ctx)
    async with ctx.db.transaction() as session:
        await count_journeys_by_stage(session)


async def _page_or_json_error(request: Request, error: Exception) -> Response:
    """A person in a browser gets a page; an API client gets the usual JSON."""
    assert isinstance(error, StarletteHTTPException)
    wants_page = "text/html" in request.headers.get("accept", "")
    if not wants_page or request.url.path.startswith("/api/"):
        return await http_exception_handler(request, error)
    title = "Not found" if error.status_code == 404 else f"Error {error.status_code}"
    return render(request, "error.html", status_code=error.status_code, staff=None, title=title,
                  message=error.detail)
