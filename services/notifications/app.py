"""Wiring of notifications: its context, the consumer (commands, and intake's events for erasure),
the sender task and the routes."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications.api import public, router
from services.notifications.handlers import make_handlers
from services.notifications.models import MODELS
from services.notifications.sender import Sender
from services.notifications.settings import NotificationSettings
from shared.clock import Clock
from shared.service import ServiceContext, build_app
from shared.settings import Settings
from shared.tables import Schema

SERVICE = "notifications"
SCHEMA = Schema.of_package(SERVICE, MODELS, __file__)  # its tables; revisions in migrations/


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    # Made again (and checked) even from NotificationSettings: copies with changes skip validation.
    ctx = ServiceContext.create(SERVICE, NotificationSettings.of(settings), clock)
    sender = Sender(ctx)
    # Erasures come from every service that owns recipients: intake (contacts), training (participants).
    topics = ["edih.notifications.commands", "edih.intake.events", "edih.training.events"]
    consumer = ctx.consumer(topics, make_handlers(ctx))

    def after_commit() -> None:
        # A recorded request wakes the sender at once, so a welcome goes out within a second
        # instead of at the next poll.
        ctx.relay.notify()
        sender.wake()

    consumer.on_commit = after_commit

    async def on_start(_: ServiceContext) -> None:
        await sender.start()

    async def on_stop(_: ServiceContext) -> None:
        await sender.stop()

    app = build_app(
        ctx, schema=SCHEMA, routers=[router, public], title="EDIH notifications",
        on_start=on_start, on_stop=on_stop,
    )
    app.state.sender = sender
    return app
