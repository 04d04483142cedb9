"""Wiring of the journey service: its context, the bridge's consumer, the Temporal worker and routes.

The worker runs in the same process as the bridge and the HTTP API, started and stopped with the app;
`/readyz` reports Temporal's reachability beside the database and the broker.
"""

from __future__ import annotations

from fastapi import FastAPI

from shared.clock import Clock
from shared.service import ServiceContext, build_app
from shared.settings import Settings
from shared.tables import Schema
from workflows.api import router
from workflows.handlers import TOPICS, Bridge
from workflows.settings import JourneySettings
from workflows.worker import TemporalConnection, WorkerRunner

SERVICE = "journey"
# No tables of its own (the workflow state lives in Temporal): the infrastructure tables only.
SCHEMA = Schema.of_package(SERVICE, (), __file__)


def create_app(deployment: Settings, clock: Clock | None = None) -> FastAPI:
    settings = JourneySettings.of(deployment)
    ctx = ServiceContext.create(SERVICE, settings, clock)
    temporal = TemporalConnection(settings)
    ctx.consumer(TOPICS, Bridge(temporal, settings).handlers())
    runner = WorkerRunner(temporal)
    app = build_app(
        ctx, schema=SCHEMA, routers=[router], title="EDIH journey",
        on_start=runner.start, on_stop=runner.stop,
        ready_checks={"temporal": temporal.reachable},
    )
    app.state.temporal = temporal
    return app
