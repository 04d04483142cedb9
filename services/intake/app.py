"""Intake's wiring: the service context, its tables, routes and consumers, as one ASGI app."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake.api import ROUTERS
from services.intake.handlers import HANDLERS, TOPICS
from services.intake.models import MODELS
from shared.clock import Clock
from shared.service import ServiceContext, build_app
from shared.settings import Settings

SERVICE = "intake"


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    ctx = ServiceContext.create(SERVICE, settings, clock)
    if HANDLERS:
        ctx.consumer(TOPICS, HANDLERS)
    return build_app(ctx, models=MODELS, routers=ROUTERS, title="EDIH intake")
