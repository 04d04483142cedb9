"""The scaffolding every service shares: its runtime context and its ASGI app.

`ServiceContext` holds what a service's code needs (settings, clock, calendar, database, broker,
outbox and relay). `build_app` turns a context, its tables, routers and consumers into a FastAPI app
that migrates the service's database with Alembic when it starts, runs the FastStream broker in the
same process and serves `/healthz`, `/readyz`, `/metrics` and the dead-letter admin endpoints
(shared/dead_letters.py). `serve` runs an app with uvicorn on the service's port. Routes name the
narrow parts they use (`SessionDep`, `ReadingDep`, `HubDep`, `ClockDep`, `OutboxDep`, `SettingsDep`,
and `IdempotentDep` to run a use case as a retry-safe write) rather than the whole context.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock, HubCalendar, clock_from
from shared.db import Database
from shared.dead_letters import router as dead_letters_router
from shared.errors import DomainError, error_body
from shared.idempotency import FROM_HEADER, Answer, Key, UseCase, run_use_case
from shared.inbox import EventConsumer, HandlerTable
from shared.kafka import contract_topics, dead_letter_topic, ensure_topics, make_broker
from shared.logging import configure_logging
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS, initialise_service_series
from shared.migrations import new_revision, upgrade
from shared.outbox import Outbox, OutboxRelay
from shared.settings import Settings, settings_from_environment
from shared.tables import INFRASTRUCTURE_TABLES as INFRASTRUCTURE_TABLES  # where tests take it from
from shared.tables import Schema

log = logging.getLogger(__name__)

# A readiness check beside the database and the broker: True when the dependency answers.
ReadyCheck = Callable[[], Awaitable[bool]]


@dataclass
class ServiceContext:
    """Everything one running service holds: built once per app, handed to routes and handlers."""

    name: str
    settings: Settings
    clock: Clock
    calendar: HubCalendar
    db: Database
    broker: KafkaBroker
    outbox: Outbox
    relay: OutboxRelay
    consumers: list[EventConsumer] = field(default_factory=list)

    @classmethod
    def create(cls, name: str, settings: Settings, clock: Clock | None = None) -> ServiceContext:
        clock = clock or clock_from(settings)
        db = Database.for_service(settings, name)
        broker = make_broker(settings, name)
        return cls(
            name=name,
            settings=settings,
            clock=clock,
            calendar=HubCalendar.from_settings(settings),
            db=db,
            broker=broker,
            outbox=Outbox(settings, name, clock),
            relay=OutboxRelay(db, broker, settings, name, clock),
        )

    def consumer(
        self, topics: Iterable[str], handlers: HandlerTable, group: str | None = None
    ) -> EventConsumer:
        """Subscribe `handlers` (the contract's data model -> handler) to `topics` on this service's
        broker; raises InvalidHandlerTable when a model is not in the registry or not on `topics`."""
        consumer = EventConsumer(
            service=self.name,
            group=group or self.name,
            topics=list(topics),
            handlers=handlers,
            db=self.db,
            outbox=self.outbox,
            settings=self.settings,
            clock=self.clock,
            on_commit=self.relay.notify,
        )
        consumer.subscribe(self.broker)
        self.consumers.append(consumer)
        return consumer

    async def start(self) -> None:
        """Create the topics, then start the broker (its consumers) and the relay."""
        topics = contract_topics(self.settings)
        topics += [dead_letter_topic(self.settings, c.group) for c in self.consumers]
        await ensure_topics(self.settings, topics)
        await self.broker.start()
        for consumer in self.consumers:
            consumer.start()
        await self.relay.start()

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        await self.relay.stop()
        await self.broker.stop()


def get_context(request: Request) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


ContextDep = Annotated[ServiceContext, Depends(get_context)]


# Narrow dependencies: a route names what it uses, not the whole context. A use case takes these
# same values as plain arguments, so a form or an event handler calls it alike.
async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session in one transaction, committed when the route returns without raising and before
    the answer is sent (scope "function"); the relay then publishes what the route wrote."""
    ctx = get_context(request)
    async with ctx.db.transaction() as session:
        yield session
    ctx.relay.notify()


async def get_reading_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for reads only (no transaction held, so no writer waits for it)."""
    async with get_context(request).db.reading() as session:
        yield session


def get_hub_id(request: Request) -> str:
    return get_context(request).settings.hub_id


def get_clock(request: Request) -> Clock:
    return get_context(request).clock


def get_outbox(request: Request) -> Outbox:
    return get_context(request).outbox


def get_settings(request: Request) -> Settings:
    return get_context(request).settings


class IdempotentWrite:
    """Runs a use case as an HTTP write: in one transaction, safe to retry with an
    `Idempotency-Key` (`shared.idempotency.run_use_case`), then wakes the relay for its events."""

    def __init__(self, request: Request) -> None:
        self.request = request

    async def __call__(
        self, use_case: UseCase[Answer], subject: Callable[[Answer], str | None] | None = None, *,
        key: Key = FROM_HEADER, payload: bytes | None = None,
    ) -> Answer | JSONResponse:
        ctx = get_context(self.request)
        answer = await run_use_case(ctx.db, ctx.clock, self.request, use_case, subject, key=key,
                                    payload=payload)
        ctx.relay.notify()
        return answer


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadingDep = Annotated[AsyncSession, Depends(get_reading_session)]
HubDep = Annotated[str, Depends(get_hub_id)]
ClockDep = Annotated[Clock, Depends(get_clock)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
IdempotentDep = Annotated[IdempotentWrite, Depends(IdempotentWrite)]


def build_app(
    ctx: ServiceContext,
    *,
    schema: Schema,
    routers: Sequence[APIRouter] = (),
    title: str | None = None,
    on_start: Callable[[ServiceContext], Awaitable[None]] | None = None,
    on_stop: Callable[[ServiceContext], Awaitable[None]] | None = None,
    ready_checks: Mapping[str, ReadyCheck] | None = None,
) -> FastAPI:
    """The service's ASGI app: its routes, health, metrics, dead letters, and the broker, relay and
    consumers. When the app starts, Alembic creates and alters the service's tables (`schema`: its
    models and the folder of their revisions). `ready_checks` are the service's own dependencies that
    `/readyz` reports beside the database and the broker (the journey service's Temporal)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await upgrade(ctx.db, schema)
        await ctx.start()
        if on_start is not None:
            await on_start(ctx)
        log.info("%s started", ctx.name)
        try:
            yield
        finally:
            if on_stop is not None:
                await on_stop(ctx)
            await ctx.stop()
            await ctx.db.dispose()
            log.info("%s stopped", ctx.name)

    app = FastAPI(title=title or f"EDIH {ctx.name}", lifespan=lifespan)
    app.state.ctx = ctx
    app.state.settings = ctx.settings

    initialise_service_series(ctx.name)

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        status = 500  # what the client gets when the route raises
        try:
            response: Response = await call_next(request)
            status = response.status_code
            return response
        finally:
            path = getattr(request.scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(ctx.name, request.method, path, status).inc()
            HTTP_LATENCY.labels(ctx.name, request.method, path).observe(time.perf_counter() - started)

    @app.exception_handler(RequestValidationError)
    async def explain_validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"message": describe_validation_errors(error.errors()),
             "detail": jsonable_encoder(error.errors())},
            status_code=422,
        )

    @app.exception_handler(DomainError)
    async def explain_domain_error(_: Request, error: DomainError) -> JSONResponse:
        return JSONResponse(error_body(error), status_code=error.status)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": ctx.name}

    all_checks: dict[str, ReadyCheck] = {
        "database": ctx.db.ping,
        "broker": lambda: ctx.broker.ping(timeout=2.0),
        **(ready_checks or {}),
    }

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        answers = await asyncio.gather(*(check() for check in all_checks.values()),
                                       return_exceptions=True)
        results = dict(zip(all_checks, answers, strict=True))
        for name, answer in results.items():
            if isinstance(answer, BaseException):  # a check that raises: not ready, reason in the log
                log.warning("readiness check %s failed: %s", name, answer)
        checks = {name: answer is True for name, answer in results.items()}
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(dead_letters_router)
    for router in routers:
        app.include_router(router)
    return app


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """One readable sentence per error: where it is and what is wrong."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            parts.append(f"the request body is not valid JSON: {reason} (character {error['loc'][-1]})")
            continue
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def run_service(app_factory: Callable[[Settings], FastAPI], service: str,
                settings_class: type[Settings], schema: Schema, argv: Sequence[str] | None = None) -> None:
    """The command line of a service (`python -m services.<service>`, the journey's `python -m
    workflows`): without a command it serves; `migrate` brings its database to the newest revisions
    of `schema` and exits (for a deployment that migrates before it starts the service); `revision
    -m MESSAGE` writes the revision its models' changes need."""
    parser = argparse.ArgumentParser(prog=f"the {service} service", description=run_service.__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve HTTP and consume events (the default)")
    commands.add_parser("migrate", help="migrate the service's database to its newest revisions")
    revision = commands.add_parser("revision", help="write a revision from the models' changes")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.command == "revision":
        asyncio.run(new_revision(schema, args.message))
    elif args.command == "migrate":
        settings = settings_from_environment(settings_class)
        configure_logging(service, settings.log_level)
        asyncio.run(_migrate(Database.for_service(settings, service), schema))
    else:
        serve(app_factory, service, settings_class)


async def _migrate(db: Database, schema: Schema) -> None:
    try:
        await upgrade(db, schema)
    finally:
        await db.dispose()


def serve(app_factory: Callable[[Settings], FastAPI], service: str,
          settings_class: type[Settings] = Settings) -> None:
    """Run a service until interrupted: `python -m services.<service>`, with its own settings
    (`settings_class`) read from the environment, each configuration problem on one line."""
    settings = settings_from_environment(settings_class)
    configure_logging(service, settings.log_level)
    uvicorn.run(
        app_factory(settings),
        host=settings.bind_host,
        port=settings.port_of(service),
        log_config=None,
        access_log=False,
    )
