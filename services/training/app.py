"""Training's wiring: the service context with training's settings, its tables, routes and
consumer (the journey's commands and exits, intake's facts), as one ASGI app."""

from __future__ import annotations

from fastapi import FastAPI

from services.training.api import ROUTERS
from services.training.context import Training
from services.training.handlers import TOPICS, make_handlers
from services.training.models import MODELS
from services.training.settings import TrainingSettings
from shared.clock import Clock
from shared.service import ServiceContext, build_app
from shared.settings import Settings
from shared.tables import Schema

SERVICE = "training"
SCHEMA = Schema.of_package(SERVICE, MODELS, __file__)  # its tables; revisions in migrations/


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    own = TrainingSettings.of(settings)
    ctx = ServiceContext.create(SERVICE, own, clock)
    training = Training(outbox=ctx.outbox, calendar=ctx.calendar, settings=own)
    ctx.consumer(TOPICS, make_handlers(ctx, training))
    app = build_app(ctx, schema=SCHEMA, routers=ROUTERS, title="EDIH training")
    app.state.training = training
    return app
