"""Fixtures for every suite: a real Tansu broker, a real Temporal dev server, a database per test
(SQLite, and PostgreSQL where EDIH_TEST_POSTGRES_URL is set), and settings that keep each test's
topics, consumer groups, schemas and task queues apart."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from edih.infra import (
    free_port,
    start_process,
    stop_process,
    tansu_command,
    temporal_command,
    wait_for_port,
)
from shared.settings import Settings

POSTGRES_URL = os.environ.get("EDIH_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"


class Tansu:
    """A Tansu broker process the tests can stop and start again (it keeps nothing)."""

    def __init__(self, logs: Path) -> None:
        self.port = free_port()
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = start_process(tansu_command(self.port), self.logs / f"tansu-{self.port}.log")
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def restart(self) -> None:
        """A new, empty broker on the same address. The old one is killed: it keeps nothing to
        shut down cleanly, and with clients connected it takes seconds to stop on SIGTERM."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
        self.start()


@pytest.fixture(scope="session")
def logs_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="edih-test-logs-"))


@pytest.fixture(scope="session")
def tansu(logs_dir: Path) -> Iterator[Tansu]:
    broker = Tansu(logs_dir)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def own_tansu(logs_dir: Path) -> Iterator[Tansu]:
    """A broker for this test alone (for tests that restart it)."""
    broker = Tansu(logs_dir)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def temporal_address(logs_dir: Path) -> Iterator[str]:
    """A real Temporal dev server (SQLite persistence) for the session."""
    port = free_port()
    process = start_process(
        temporal_command(port, 0, logs_dir / "temporal.db"), logs_dir / "temporal.log"
    )
    wait_for_port(port, process=process)
    yield f"127.0.0.1:{port}"
    stop_process(process)


def _database_params() -> list[object]:
    params: list[object] = ["sqlite"]
    if POSTGRES_URL:
        params.append(pytest.param("postgres", marks=pytest.mark.postgres))
    elif IN_CI:
        params.append(pytest.param("postgres-missing", marks=pytest.mark.postgres))
    return params


@pytest.fixture(params=_database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None for SQLite files under the test's data dir, or the PostgreSQL URL."""
    if request.param == "postgres-missing":
        pytest.fail("CI=true but EDIH_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run")
    return POSTGRES_URL if request.param == "postgres" else None


@pytest.fixture
async def settings(
    tansu: Tansu, tmp_path: Path, database_url: str | None
) -> AsyncIterator[Settings]:
    """Settings of one test: its own topics, groups, data dir and PostgreSQL schemas."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    yield Settings(
        hub_id="nl-noord",
        data_dir=tmp_path / "data",
        kafka_bootstrap_servers=tansu.bootstrap,
        topic_prefix=prefix,
        kafka_session_timeout_ms=1_000,
        database_url=database_url,
        relay_interval_seconds=0.05,
        broker_check_interval_seconds=0.5,
        business_hours_enabled=False,
    )
    await _delete_topics(tansu.bootstrap, prefix)
    if database_url:
        await _drop_schemas(database_url, prefix)


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete the test's topics: the session's broker keeps every topic in memory, and every admin
    client and relay check reads the metadata of all of them, so thousands of leftovers slow every
    later test."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


async def _drop_schemas(url: str, prefix: str) -> None:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    async with engine.begin() as conn:
        names = (
            await conn.execute(
                text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
                {"p": prefix + "%"},
            )
        ).scalars().all()
        for name in names:
            await conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    await engine.dispose()
