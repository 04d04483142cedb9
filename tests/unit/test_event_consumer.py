"""The idempotent consumer on FastStream's in-memory TestKafkaBroker: fast checks of the inbox, the
dead letters and which errors say that a dependency is unavailable (the same rules run against the
real broker in tests/integration)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import exc as sa_exc
from sqlmodel import func, select
from temporalio.service import RPCError, RPCStatusCode

from shared.contracts import build_event
from shared.contracts.intake import CompanyRegistered
from shared.contracts.services import ServiceRequested
from shared.inbox import DeadLetter, InvalidHandlerTable, PermanentError, ProcessedEvent, is_transient
from shared.outbox import OutboxRecord
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings

applied: list[str] = []


async def on_registered(session, event, data: CompanyRegistered) -> None:
    if data.legal_name == "Refused BV":
        raise PermanentError("this company cannot be applied")
    if data.legal_name == "Unreachable BV":
        raise ConnectionRefusedError("the service this handler calls is down")
    applied.append(event.id)


def registration(company_id: str, legal_name: str = "Acme BV") -> bytes:
    data = CompanyRegistered(
        hub_id="nl-noord", company_id=company_id, kvk_number="12345678", legal_name=legal_name,
        region="groningen", nace_code="C10", cohort_status="admitted",
    )
    from datetime import UTC, datetime

    return build_event("company-registered", data, sender="intake",
                       at=datetime(2026, 11, 30, tzinfo=UTC))[1].to_bytes()


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[ServiceContext]:
    applied.clear()
    context = ServiceContext.create("console", Settings(data_dir=tmp_path, consumer_retry_base_seconds=0.01))
    context.consumer(["edih.intake.events"], {CompanyRegistered: on_registered})
    await context.db.create_all(INFRASTRUCTURE_TABLES)
    yield context
    await context.db.dispose()


async def rows(ctx: ServiceContext, model) -> int:  # type: ignore[no-untyped-def]
    async with ctx.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_redelivered_event_is_applied_once(ctx: ServiceContext):
    record = registration("c-1")
    async with TestKafkaBroker(ctx.broker) as broker:
        await broker.publish(record, "edih.intake.events", key=b"c-1")
        await broker.publish(record, "edih.intake.events", key=b"c-1")
    assert len(applied) == 1
    assert await rows(ctx, ProcessedEvent) == 1


@pytest.mark.parametrize(
    "record",
    [b"not json at all", b'{"specversion": "1.0"}', b'{"id": "x", "source": "/nl-noord/intake",'
     b' "type": "eu.edih.intake.company-registered.v1", "subject": "c", "time": "2026-01-01T00:00:00Z",'
     b' "data": {"company_id": "c"}}'],
    ids=["not-json", "not-an-event", "invalid-data"],
)
async def test_a_malformed_record_becomes_a_dead_letter_and_the_next_one_is_applied(ctx, record):
    async with TestKafkaBroker(ctx.broker) as broker:
        await broker.publish(record, "edih.intake.events", key=b"c")
        await broker.publish(registration("c-2"), "edih.intake.events", key=b"c-2")
    assert len(applied) == 1
    assert await rows(ctx, DeadLetter) == 1
    async with ctx.db.reading() as session:
        letter = (await session.execute(select(DeadLetter))).scalars().one()
        queued = (await session.execute(select(OutboxRecord))).scalars().one()
    assert letter.payload == record and letter.error.startswith("malformed")
    assert queued.topic == "edih.console.dlq" and queued.payload == record


async def test_a_refused_event_is_dead_lettered_without_its_effect_or_inbox_row(ctx):
    async with TestKafkaBroker(ctx.broker) as broker:
        await broker.publish(registration("c-3", "Refused BV"), "edih.intake.events", key=b"c-3")
    assert applied == []
    assert await rows(ctx, ProcessedEvent) == 0
    async with ctx.db.reading() as session:
        letter = (await session.execute(select(DeadLetter))).scalars().one()
    assert "cannot be applied" in letter.error


async def test_an_unavailable_dependency_is_neither_applied_nor_dead_lettered_but_retried(ctx):
    before = REGISTRY.get_sample_value(
        "edih_event_retries_total", {"service": "console", "reason": "unavailable"}) or 0
    async with TestKafkaBroker(ctx.broker) as broker:
        await broker.publish(registration("c-4", "Unreachable BV"), "edih.intake.events", key=b"c-4")
    assert applied == []
    assert await rows(ctx, ProcessedEvent) == 0
    assert await rows(ctx, DeadLetter) == 0
    # The in-memory broker does not deliver a nacked record again; the real one does
    # (tests/integration/test_consumer_retries.py).
    assert REGISTRY.get_sample_value(
        "edih_event_retries_total", {"service": "console", "reason": "unavailable"}) == before + 1


def _caused_by(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


def _rpc(status: RPCStatusCode, message: str = "") -> RPCError:
    return RPCError(message, status, b"")


class _PostgresError(Exception):
    """What asyncpg raises: an error with the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("error", [
    sa_exc.OperationalError("SELECT 1", {}, Exception("database is locked")),
    sa_exc.InterfaceError("SELECT 1", {}, Exception("connection closed")),
    sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    sa_exc.TimeoutError("QueuePool limit reached"),
    _caused_by(sa_exc.InternalError("SELECT 1", {}, Exception()), _PostgresError("57P01")),
    _PostgresError("08006"),
    _PostgresError("40001"),
    ConnectionRefusedError(111, "Connect call failed"),
    OSError("network unreachable"),
    TimeoutError(),
    _rpc(RPCStatusCode.UNAVAILABLE, "tcp connect error"),
    _rpc(RPCStatusCode.DEADLINE_EXCEEDED),
    _rpc(RPCStatusCode.RESOURCE_EXHAUSTED),
    _rpc(RPCStatusCode.INTERNAL, "transport error: Connection refused"),
    RuntimeError("Failed client connect: Server connection error"),
    httpx.ConnectError("connection refused"),
    httpx.ReadTimeout("timed out"),
    _caused_by(ValueError("could not fetch the link"), httpx.ConnectError("refused")),
], ids=lambda error: type(error).__name__)
def test_an_unavailable_dependency_is_transient(error: BaseException):
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    ValueError("bad value"),
    ZeroDivisionError(),
    KeyError("x"),
    sa_exc.IntegrityError("INSERT", {}, _PostgresError("23505")),
    sa_exc.ProgrammingError("SELECT", {}, _PostgresError("42P01")),
    _rpc(RPCStatusCode.NOT_FOUND, "workflow not found"),
    _rpc(RPCStatusCode.INVALID_ARGUMENT),
    _rpc(RPCStatusCode.INTERNAL, "panic in handler"),
    RuntimeError("something else"),
    httpx.HTTPStatusError("404", request=httpx.Request("GET", "http://x"),
                          response=httpx.Response(404)),
    _caused_by(PermanentError("no running journey"), ConnectionError()),
], ids=lambda error: type(error).__name__)
def test_a_bug_or_a_refusal_is_not_transient(error: BaseException):
    assert not is_transient(error)


def _consumer_of(tmp_path: Path, topics: list[str], handlers) -> None:  # type: ignore[no-untyped-def]
    ServiceContext.create("console", Settings(data_dir=tmp_path)).consumer(topics, handlers)


def test_a_handler_table_naming_a_model_outside_the_registry_is_refused_at_registration(tmp_path):
    class Unregistered(CompanyRegistered):
        pass

    with pytest.raises(InvalidHandlerTable, match="handler for Unregistered: not the data model of any"):
        _consumer_of(tmp_path, ["edih.intake.events"], {Unregistered: on_registered})
    # A table still keyed by the short name is refused alike, instead of never matching a record.
    with pytest.raises(InvalidHandlerTable, match="company-registered"):
        _consumer_of(tmp_path, ["edih.intake.events"], {"company-registered": on_registered})


def test_a_handler_for_a_model_that_never_comes_on_the_subscribed_topics_is_refused(tmp_path):
    with pytest.raises(InvalidHandlerTable,
                       match=re.escape("handler for CompanyRegistered: it comes on edih.intake.events, and "
                                       "the consumer subscribes only to edih.journey.events")):
        _consumer_of(tmp_path, ["edih.journey.events"], {CompanyRegistered: on_registered})


def test_a_command_several_services_receive_is_handled_on_the_receivers_topic(tmp_path):
    # service-requested has one model and one contract per receiving service, routed by topic.
    _consumer_of(tmp_path, ["edih.training.commands"], {ServiceRequested: on_registered})
    with pytest.raises(InvalidHandlerTable, match=re.escape("edih.financing.commands, edih.network.commands, "
                                                            "edih.training.commands")):
        _consumer_of(tmp_path, ["edih.intake.events"], {ServiceRequested: on_registered})
