"""A service migrates its database when it starts, on SQLite and PostgreSQL: a database at an older
revision gets the newer columns, one made without migrations (by `create_all`, as `make up` did
before) is stamped with the revision its tables match and upgraded with its rows kept, one that
matches no revision is refused with what to do, and two processes starting at once migrate it once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import select

from services.intake.app import SCHEMA as INTAKE
from services.intake.app import create_app
from services.intake.models import MODELS as INTAKE_MODELS
from shared.db import Database
from shared.migrations import UnknownSchema, alembic_config, pending_changes, upgrade
from shared.outbox import OutboxRecord
from shared.settings import Settings
from shared.tables import INFRASTRUCTURE_SCHEMA, Schema
from workflows.app import SCHEMA as JOURNEY

REPO = Path(__file__).resolve().parents[2]
# The first infrastructure revision; 63e3aa758f8a, after it, adds idempotent_responses.subject.
FIRST_INFRASTRUCTURE = "d6f8feaec6cb"


@pytest.fixture
async def intake_db(settings: Settings) -> AsyncIterator[Database]:
    db = Database.for_service(settings, "intake")
    yield db
    await db.dispose()


async def start_and_stop(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass


async def columns(db: Database, table: str) -> set[str]:
    async with db.engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns(table, schema=db.schema)})


async def stamped(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())


def newest(schema: Schema) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(schema.folder, schema.tables, None)).get_heads())


async def made_without_migrations(db: Database) -> None:
    """What `make up` of an earlier version left: the tables of the first infrastructure revision
    and intake's, made by create_all, with no alembic_version table, and a row in the outbox."""
    await upgrade(db, INFRASTRUCTURE_SCHEMA, FIRST_INFRASTRUCTURE)
    await db.create_all(INTAKE_MODELS)
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE alembic_version"))
    async with db.transaction() as session:
        session.add(OutboxRecord(event_id="kept", topic="t", key="k", payload=b"{}",
                                 created_at=datetime.now(UTC)))


async def test_a_database_at_an_older_revision_gets_the_new_columns_when_the_service_starts(
    intake_db, settings
):
    await upgrade(intake_db, INFRASTRUCTURE_SCHEMA, FIRST_INFRASTRUCTURE)
    assert "subject" not in await columns(intake_db, "idempotent_responses")
    await start_and_stop(settings)
    assert "subject" in await columns(intake_db, "idempotent_responses")
    assert {"resolved_at", "resolved_by"} <= await columns(intake_db, "dead_letters")
    assert await stamped(intake_db) == newest(INTAKE)
    assert await pending_changes(intake_db, INTAKE) == []


async def test_a_database_made_without_migrations_is_stamped_and_upgraded_with_its_rows(
    intake_db, settings
):
    await made_without_migrations(intake_db)
    await start_and_stop(settings)
    assert "subject" in await columns(intake_db, "idempotent_responses")
    assert await stamped(intake_db) == newest(INTAKE)
    assert await pending_changes(intake_db, INTAKE) == []
    async with intake_db.reading() as session:
        assert (await session.execute(select(OutboxRecord.event_id))).scalars().all() == ["kept"]


async def test_a_database_made_without_migrations_that_matches_no_revision_is_refused(
    intake_db, settings
):
    await made_without_migrations(intake_db)
    async with intake_db.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE outbox ADD COLUMN added_by_hand INTEGER"))
    with pytest.raises(UnknownSchema, match="match no revision") as refused:
        await start_and_stop(settings)
    assert "Back it up" in str(refused.value)
    assert "subject" not in await columns(intake_db, "idempotent_responses")  # left as it was


async def test_two_processes_of_a_service_starting_at_once_migrate_its_database_once(settings):
    # Two engines are two processes as the database sees them: separate connections and sessions.
    databases = [Database.for_service(settings, "intake") for _ in range(2)]
    try:
        await asyncio.gather(*(upgrade(db, INTAKE) for db in databases))
        assert await stamped(databases[0]) == newest(INTAKE)
        assert await pending_changes(databases[1], INTAKE) == []
    finally:
        for db in databases:
            await db.dispose()


async def test_the_journey_database_has_the_infrastructure_tables_only(settings):
    db = Database.for_service(settings, "journey")
    try:
        await upgrade(db, JOURNEY)
        assert await stamped(db) == newest(INFRASTRUCTURE_SCHEMA)
        assert await pending_changes(db, JOURNEY) == []
    finally:
        await db.dispose()
    # Migrating at start writes nothing into the code: the journey has no migrations folder.
    assert not (REPO / "workflows" / "migrations").exists()
