"""Intake's Alembic history builds exactly the schema of its models, on SQLite and PostgreSQL, and
a second start finds nothing to do."""

from __future__ import annotations

from shared.db import Database
from shared.migrations import pending_changes, upgrade
from shared.settings import Settings


async def test_intakes_migrations_build_exactly_its_models_schema(settings: Settings):
    db = Database.for_service(settings, "intake")
    try:
        changes = await pending_changes(db, "intake")
        assert changes == [], f"make migration SERVICE=intake MESSAGE='...'\n{changes}"
        await upgrade(db, "intake")
    finally:
        await db.dispose()
