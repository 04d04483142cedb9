"""Intake's wiring: the service context, its tables, routes and consumers, as one ASGI app, and
the style and script of the company's questionnaire pages under /static."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.intake.api import ROUTERS
from services.intake.handlers import HANDLERS, TOPICS
from services.intake.models import MODELS
from shared.clock import Clock
from shared.service import ServiceContext, build_app
from shared.settings import Settings

SERVICE = "intake"
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    ctx = ServiceContext.create(SERVICE, settings, clock)
    if HANDLERS:
        ctx.consumer(TOPICS, HANDLERS)
    app = build_app(ctx, models=MODELS, routers=ROUTERS, title="EDIH intake")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
