"""Database migrations with Alembic: one history for the infrastructure tables, one per service.

The infrastructure tables every service has (outbox, inbox, dead letters, idempotent responses) are
versioned once, in `shared/alembic/versions/` (branch `infrastructure`); each service's own tables
in `<its package>/migrations/` (branch named after the service). A service migrates its database
(its PostgreSQL schema, or its SQLite file) to the heads of both when it starts.

`python -m shared.migrations revision <service or infrastructure> -m "what changed"` writes a
revision from the difference between the models and a freshly migrated database; the test suite
checks that no model change lacks its revision.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlmodel import SQLModel

from shared.db import Database

ALEMBIC_DIR = Path(__file__).parent / "alembic"
INFRASTRUCTURE = "infrastructure"
VERSION_TABLE = "alembic_version"


def _infrastructure_tables() -> frozenset[str]:
    from shared.service import INFRASTRUCTURE_TABLES

    return frozenset(m.__tablename__ for m in INFRASTRUCTURE_TABLES)  # type: ignore[misc]


def service_layout(service: str) -> tuple[Path, frozenset[str]]:
    """The migrations folder of `service` and the names of its own tables (`MODELS` of its
    models module)."""
    if service == INFRASTRUCTURE:
        return ALEMBIC_DIR / "versions", _infrastructure_tables()
    package = "workflows" if service == "journey" else f"services.{service}"
    models = importlib.import_module(f"{package}.models")
    folder = Path(str(models.__file__)).parent / "migrations"
    return folder, frozenset(m.__tablename__ for m in getattr(models, "MODELS", ()))


def alembic_config(folder: Path, tables: Iterable[str], schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("path_separator", "os")
    locations = [ALEMBIC_DIR / "versions"] + ([folder] if folder != ALEMBIC_DIR / "versions" else [])
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


async def upgrade(db: Database, service: str) -> None:
    """Migrate `db` to the newest infrastructure and `service` revisions."""
    folder, tables = service_layout(service)
    folder.mkdir(parents=True, exist_ok=True)
    config = alembic_config(folder, _infrastructure_tables() | tables, db.schema)
    async with db.engine.begin() as connection:
        if db.schema:
            await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
        await connection.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


async def pending_changes(db: Database, service: str) -> list[Any]:
    """What `service`'s models have that its migrated database lacks (empty when in sync)."""
    await upgrade(db, service)
    tables = _infrastructure_tables() | service_layout(service)[1]
    async with db.engine.connect() as connection:
        return await connection.run_sync(_compare, tables)


def _compare(connection: Connection, tables: frozenset[str]) -> list[Any]:
    migration = MigrationContext.configure(
        connection,
        opts={"include_object": _include(tables), "compare_type": True,
              "version_table": VERSION_TABLE},
    )
    return list(compare_metadata(migration, SQLModel.metadata))


async def new_revision(service: str, message: str) -> None:
    """Write the revision that brings `service`'s history up to its models."""
    folder, tables = service_layout(service)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite+aiosqlite:///{scratch}/{service}.db")
        await upgrade(db, service)
        config = alembic_config(folder, tables, None)
        async with db.engine.begin() as connection:
            await connection.run_sync(_revise, config, service, folder, message)
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
    revision = commands.add_parser("revision", help="write a revision from the models' changes")
    revision.add_argument("service", help="a service name, or 'infrastructure'")
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    asyncio.run(new_revision(args.service, args.message))


if __name__ == "__main__":
    main()
