"""What the tests of shared/'s outbox and inbox drive on a real broker and database: a publishing
service (intake's outbox and relay), a consuming service whose handlers record every
company-registered they apply (`SeenCompany`), counts of rows and metrics, and a database outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import Field, SQLModel, func, select

from edih.infra import free_port
from shared.contracts import CloudEvent, build_event
from shared.contracts.intake import CompanyRegistered
from shared.db import Database
from shared.inbox import HandlerTable
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings

INTAKE_EVENTS = "edih.intake.events"
# Consumers in tests wait little between deliveries and measure their lag often.
QUICK_CONSUMER = {
    "consumer_attempts": 3,
    "consumer_retry_base_seconds": 0.01,
    "consumer_retry_cap_seconds": 0.05,
    "kafka_lag_interval_seconds": 0.1,
}


class SeenCompany(SQLModel, table=True):
    """The test consumer's effect: one row per applied company-registered."""

    __tablename__ = "test_seen_companies"

    id: int | None = Field(default=None, primary_key=True)
    company_id: str
    event_id: str


def registered(company_id: str, legal_name: str = "Acme BV") -> CompanyRegistered:
    return CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="12345678", legal_name=legal_name,
        region="drenthe", nace_code="C25.62", cohort_status="admitted",
    )


async def publish_on_one_partition(producer: ServiceContext, settings: Settings, *records: bytes,
                                  partition: int = 0) -> None:
    """`records`, in order, straight onto one partition of intake's events (named, not left to the
    keys' hash): a consumer reads them in this order, so one applied after a poison record shows
    that the consumer got past the poison record."""
    for raw in records:
        await producer.broker.publish(raw, settings.topic(INTAKE_EVENTS), partition=partition)


def registration_record(company_id: str) -> bytes:
    """A company-registered CloudEvent, as intake publishes it."""
    _, event = build_event("company-registered", registered(company_id), sender="intake",
                           at=datetime.now(UTC))
    return event.to_bytes()


async def record_company(session: AsyncSession, event: CloudEvent, data: CompanyRegistered) -> None:
    session.add(SeenCompany(company_id=data.company_id, event_id=event.id))


@asynccontextmanager
async def publishing_service(settings: Settings, relay: bool = False) -> AsyncIterator[ServiceContext]:
    """Intake's outbox, broker and relay (the relay started only with `relay`: otherwise a test
    starts it when it wants)."""
    ctx = ServiceContext.create("intake", settings)
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    await ctx.broker.start()
    if relay:
        await ctx.relay.start()
    try:
        yield ctx
    finally:
        await ctx.relay.stop()
        await ctx.broker.stop()
        await ctx.db.dispose()


def consuming_service(settings: Settings, handlers: HandlerTable | None = None) -> ServiceContext:
    """A service (named console: its consumer group) with a consumer of intake's events running
    `handlers` (by default: record every company-registered), not started yet."""
    ctx = ServiceContext.create("console", settings.model_copy(update=QUICK_CONSUMER))
    ctx.consumer([INTAKE_EVENTS], handlers or {CompanyRegistered: record_company})
    return ctx


@asynccontextmanager
async def running(ctx: ServiceContext) -> AsyncIterator[ServiceContext]:
    """`ctx` started on its tables (infrastructure and SeenCompany), stopped after the block."""
    await ctx.db.create_all([*INFRASTRUCTURE_TABLES, SeenCompany])
    await ctx.start()
    try:
        yield ctx
    finally:
        await ctx.stop()
        await ctx.db.dispose()


async def grown(value: float, before: float, by: float = 1) -> bool:
    """Whether a counter grew by at least `by` since it read `before`."""
    return value - before >= by


async def count(ctx: ServiceContext, model: type[SQLModel], *where: object) -> int:
    async with ctx.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def publish_registration(ctx: ServiceContext, company_id: str) -> CloudEvent:
    """Write a company-registered to `ctx`'s outbox (its relay publishes it)."""
    async with ctx.db.transaction() as session:
        event = await ctx.outbox.add(session, "company-registered", registered(company_id))
    ctx.relay.notify()
    return event


def metric(name: str, **labels: str) -> float:
    """The current value of one sample of the default registry (0 when it has none yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def consumed(outcome: str) -> float:
    return metric("edih_events_in_total", service="console", type="company-registered", outcome=outcome)


def retries(reason: str, service: str = "console") -> float:
    return metric("edih_event_retries_total", service=service, reason=reason)


class DatabaseOutage:
    """Makes a service's database unreachable and brings it back: while it lasts, every new session
    of `db` connects to a database that is not there (a PostgreSQL port nothing listens on, an SQLite
    file in a folder that does not exist), so the driver's own connection errors surface."""

    def __init__(self, db: Database, scratch: Path) -> None:
        self.db = db
        self.scratch = scratch
        self._healthy: async_sessionmaker[AsyncSession] | None = None
        self._unreachable: Any = None

    def begin(self) -> None:
        if self._healthy is not None:
            return
        url = (f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone" if self.db.is_postgres
               else f"sqlite+aiosqlite:///{self.scratch / 'no-such-folder' / 'gone.db'}")
        self._unreachable = create_async_engine(url)
        self._healthy = self.db.sessions
        self.db.sessions = async_sessionmaker(self._unreachable, expire_on_commit=False)

    async def end(self) -> None:
        if self._healthy is None:
            return
        self.db.sessions = self._healthy
        self._healthy = None
        await self._unreachable.dispose()
