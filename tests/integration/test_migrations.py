"""Alembic migrations: every service's database migrates from empty to its models' schema, on
SQLite and PostgreSQL, and no model change is without its revision."""

from __future__ import annotations

import pytest

from services.console.app import SCHEMA as CONSOLE
from services.intake.app import SCHEMA as INTAKE
from services.notifications.app import SCHEMA as NOTIFICATIONS
from services.training.app import SCHEMA as TRAINING
from shared.db import Database
from shared.migrations import pending_changes, upgrade
from shared.settings import Settings
from shared.tables import INFRASTRUCTURE_SCHEMA, Schema
from workflows.app import SCHEMA as JOURNEY

SCHEMAS = [INFRASTRUCTURE_SCHEMA, CONSOLE, INTAKE, NOTIFICATIONS, TRAINING, JOURNEY]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.name)
async def test_the_migrations_build_exactly_the_models_schema(schema: Schema, settings: Settings):
    db = Database.for_service(settings, schema.name)
    try:
        changes = await pending_changes(db, schema)
        assert changes == [], (
            f"{schema.name}'s models differ from its migrations: "
            f"make migration SERVICE={schema.name} MESSAGE='...'\n{changes}"
        )
        await upgrade(db, schema)  # a second start finds nothing to do
    finally:
        await db.dispose()
