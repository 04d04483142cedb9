"""Intake's wiring: the service context, its tables, routes and consumer (exits the journey
decided), at start the admission of waitlisted companies into places a pool gained, and the style
and script of the company's questionnaire pages under /static, as one ASGI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.intake import places
from services.intake.api import ROUTERS
from services.intake.handlers import TOPICS, make_handlers
from services.intake.models import MODELS
from services.intake.settings import IntakeSettings
from shared.clock import Clock
from shared.service import ServiceContext, build_app
from shared.settings import Settings
from shared.tables import Schema

SERVICE = "intake"
SCHEMA = Schema.of_package(SERVICE, MODELS, __file__)  # its tables; revisions in migrations/
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    ctx = ServiceContext.create(SERVICE, IntakeSettings.of(settings), clock)
    ctx.consumer(TOPICS, make_handlers(ctx))

    async def on_start(ctx: ServiceContext) -> None:
        await places.fill_pools(ctx)

    app = build_app(ctx, schema=SCHEMA, routers=ROUTERS, title="EDIH intake", on_start=on_start)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
