"""Database migrations with Alembic: one history for the infrastructure tables, one per service.

The infrastructure tables every service has (outbox, inbox, dead letters, idempotent responses) are
versioned once, in `shared/alembic/versions/` (branch `infrastructure`); each service's own tables
in `<its package>/migrations/` (branch named after the service). A service migrates its database
(its PostgreSQL schema, or its SQLite file) to the heads of both when it starts (`upgrade`, called by
shared/service.py). Two processes of one service may start at once: a lock (PostgreSQL: an advisory
lock; SQLite: a lock file beside the database) lets one migrate while the other waits and then finds
nothing to do. A database whose tables were made without migrations (`create_all`, by versions from
before them) is stamped with the revisions its tables match, then upgraded; one that matches none is
refused with what to do.

A service hands its `Schema` (shared/tables.py: its models and migrations folder) to `build_app`;
nothing here knows a service. `new_revision` writes a revision of a schema from the difference
between its models and a freshly migrated database: a service's command line calls it
(`python -m services.<name> revision -m "what changed"`, shared/service.py `run_service`), and
`python -m shared.migrations revision -m "..."` for the infrastructure tables (`make migration
SERVICE=...` runs the right one); the test suite checks that no model change lacks its revision.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlmodel import SQLModel

from shared.db import Database
from shared.tables import INFRASTRUCTURE_SCHEMA, Schema

ALEMBIC_DIR = Path(__file__).parent / "alembic"
INFRASTRUCTURE = INFRASTRUCTURE_SCHEMA.name
VERSION_TABLE = "alembic_version"

log = logging.getLogger(__name__)

# A table's name -> the names of its columns: what decides which revision a database has.
Shape = dict[str, frozenset[str]]


class UnknownSchema(RuntimeError):
    """A database made without migrations whose tables match no revision."""


def alembic_config(folder: Path, tables: Iterable[str], schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("path_separator", "os")
    own = folder != ALEMBIC_DIR / "versions" and folder.is_dir()  # the journey has no own tables
    locations = [ALEMBIC_DIR / "versions"] + ([folder] if own else [])
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    config.attributes["tables"] = frozenset(tables)
    config.attributes["schema"] = schema
    return config


def _include(tables: frozenset[str]):  # type: ignore[no-untyped-def]
    return lambda obj, name, kind, *_: kind != "table" or name in tables


def run_env() -> None:
    """The body of `shared/alembic/env.py`: migrate the connection it is handed."""
    config = context.config
    context.configure(
        connection=config.attributes["connection"],
        target_metadata=SQLModel.metadata,
        include_object=_include(config.attributes["tables"]),
        version_table=VERSION_TABLE,
        version_table_schema=config.attributes["schema"],
        render_as_batch=True,  # SQLite alters a table by copying it
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def upgrade(db: Database, schema: Schema, revision: str = "heads") -> None:
    """Migrate `db` to `revision` of the infrastructure and `schema`'s histories (their newest by
    default), stamping a database made without migrations first."""
    config = alembic_config(schema.folder, INFRASTRUCTURE_SCHEMA.tables | schema.tables, db.schema)
    config.attributes["service"] = schema
    config.attributes["where"] = (f"schema {db.schema!r} of the PostgreSQL database" if db.is_postgres
                                  else f"the SQLite database {db.url.database}")
    async with _sqlite_lock(db), db.engine.begin() as connection:
        if db.is_postgres:
            # Held until this transaction ends: a second process starting now waits here.
            await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                     {"key": f"edih-migrations:{db.schema}"})
        if db.schema:
            await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        await connection.run_sync(_upgrade, config, revision)


@asynccontextmanager
async def _sqlite_lock(db: Database) -> AsyncIterator[None]:
    """An exclusive lock on `<database file>.lock` while migrating (nothing on PostgreSQL)."""
    path = db.url.database
    if db.is_postgres or not path or path == ":memory:":
        yield
        return
    # Waits in a thread: another migration of this process may hold the lock on this event loop.
    handle = await asyncio.to_thread(_lock_file, Path(f"{path}.lock"))
    try:
        yield
    finally:
        handle.close()  # closing releases the lock


def _lock_file(path: Path) -> IO[str]:
    handle = path.open("a")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    if not inspect(connection).has_table(VERSION_TABLE, schema=config.attributes["schema"]):
        made_without_migrations = _revisions_matching(connection, config)
        if made_without_migrations:
            log.warning("%s was made without migrations; it matches %s, stamped so",
                        config.attributes["where"], ", ".join(made_without_migrations))
            command.stamp(config, made_without_migrations)
    command.upgrade(config, revision)


def _revisions_matching(connection: Connection, config: Config) -> list[str]:
    """The revision of each history whose tables the database has (none for a history it has no
    table of); raises UnknownSchema when its tables match no revision."""
    service: Schema = config.attributes["service"]
    live = _shape(connection, config.attributes["schema"], config.attributes["tables"])
    found = []
    for history in dict.fromkeys((INFRASTRUCTURE_SCHEMA, service)):
        have = {table: columns for table, columns in live.items() if table in history.tables}
        if not have:
            continue
        revision = _revision_with_shape(service, history.name, history.tables, have)
        if revision is None:
            raise UnknownSchema(
                f"{config.attributes['where']} has tables but no {VERSION_TABLE} table, and its "
                f"{history} tables ({', '.join(sorted(have))}) match no revision: it was made by a "
                "version from before migrations, or changed by hand. Back it up; then remove it (the "
                "SQLite file, or the schema) to start empty, or stamp the revision it has "
                "(alembic stamp) and start again."
            )
        found.append(revision)
    return found


def _revision_with_shape(service: Schema, history: str, tables: frozenset[str],
                         shape: Shape) -> str | None:
    """The revision of `history` after which a fresh database has exactly `shape`, found by
    migrating a scratch SQLite database one revision at a time."""
    config = alembic_config(service.folder, tables, None)
    script = ScriptDirectory.from_config(config)
    if not _has_branch(config, history):
        return None
    revisions = [r.revision for r in script.iterate_revisions(f"{history}@head", "base")][::-1]
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/shape.db")
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                for revision in revisions:
                    command.upgrade(config, revision)
                    if _shape(connection, None, tables) == shape:
                        return revision
        finally:
            engine.dispose()
    return None


def _shape(connection: Connection, schema: str | None, tables: Iterable[str]) -> Shape:
    inspector = inspect(connection)
    present = set(inspector.get_table_names(schema=schema)) & set(tables)
    return {table: frozenset(c["name"] for c in inspector.get_columns(table, schema=schema))
            for table in present}


async def pending_changes(db: Database, schema: Schema) -> list[Any]:
    """What `schema`'s models have that its migrated database lacks (empty when in sync)."""
    await upgrade(db, schema)
    tables = INFRASTRUCTURE_SCHEMA.tables | schema.tables
    async with db.engine.connect() as connection:
        return await connection.run_sync(_compare, tables)


def _compare(connection: Connection, tables: frozenset[str]) -> list[Any]:
    migration = MigrationContext.configure(
        connection,
        opts={"include_object": _include(tables), "compare_type": True,
              "version_table": VERSION_TABLE},
    )
    return list(compare_metadata(migration, SQLModel.metadata))


async def new_revision(schema: Schema, message: str) -> None:
    """Write the revision that brings `schema`'s history up to its models."""
    schema.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite+aiosqlite:///{scratch}/{schema.name}.db")
        await upgrade(db, schema)
        config = alembic_config(schema.folder, schema.tables, None)
        async with db.engine.begin() as connection:
            await connection.run_sync(_revise, config, schema.name, schema.folder, message)
        await db.dispose()


def _revise(connection: Connection, config: Config, branch: str, folder: Path, message: str) -> None:
    config.attributes["connection"] = connection
    heads = ScriptDirectory.from_config(config).get_revisions(f"{branch}@head") if _has_branch(
        config, branch) else ()
    command.revision(
        config, message=message, autogenerate=True,
        head=f"{branch}@head" if heads else "base",
        branch_label=None if heads else branch,
        version_path=str(folder),
    )


def _has_branch(config: Config, branch: str) -> bool:
    script = ScriptDirectory.from_config(config)
    return any(branch in (rev.branch_labels or ()) for rev in script.walk_revisions())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser(
        "revision", help="write a revision from the infrastructure tables' changes (a service's own: "
        "`python -m <its package> revision -m ...`)")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    asyncio.run(new_revision(INFRASTRUCTURE_SCHEMA, args.message))


if __name__ == "__main__":
    main()
