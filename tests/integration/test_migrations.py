"""Alembic migrations: every service's database migrates from empty to its models' schema, on
SQLite and PostgreSQL, and no model change is without its revision."""

from __future__ import annotations

import pytest

from shared.db import Database
from shared.migrations import INFRASTRUCTURE, pending_changes, upgrade
from shared.settings import Settings

SERVICES = [INFRASTRUCTURE, "console", "intake", "notifications"]


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migrations_build_exactly_the_models_schema(service: str, settings: Settings):
    db = Database.for_service(settings, service)
    try:
        changes = await pending_changes(db, service)
        assert changes == [], (
            f"{service}'s models differ from its migrations: "
            f"python -m shared.migrations revision {service} -m '...'\n{changes}"
        )
        await upgrade(db, service)  # a second start finds nothing to do
    finally:
        await db.dispose()
