"""Async database access for SQLite (the embedded default) and PostgreSQL (production).

`Database` owns one service's engine and session factory. On PostgreSQL every service lives in its
own schema of one database (its `search_path` is set per connection), so the same SQLModel tables
serve both engines. `UTCDateTime` stores timezone-aware timestamps on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from shared.settings import Settings


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """One service's database: engine, sessions, table creation."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url = make_url(url)
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        self.schema = schema if self.is_postgres else None
        if self.is_postgres and self.url.drivername == "postgresql":
            self.url = self.url.set(drivername="postgresql+asyncpg")
        connect_args: dict[str, Any] = {}
        if self.schema:
            connect_args["server_settings"] = {"search_path": self.schema}
        if not self.is_postgres:
            connect_args["timeout"] = 30
        self.engine: AsyncEngine = create_async_engine(
            self.url, connect_args=connect_args, pool_pre_ping=self.is_postgres
        )
        if not self.is_postgres:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._lock = asyncio.Lock() if not self.is_postgres else None

    @classmethod
    def for_service(cls, settings: Settings, service: str) -> Database:
        return cls(settings.database_url_for(service), schema=f"{settings.topic_prefix}{service}")

    async def create_all(self, models: Iterable[type[SQLModel]]) -> None:
        """Create the schema (PostgreSQL) and the tables of `models` that do not exist yet."""
        tables = [model.__table__ for model in models]  # type: ignore[attr-defined]
        async with self.engine.begin() as conn:
            if self.schema:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            await conn.run_sync(SQLModel.metadata.create_all, tables=tables)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block ends, rolled back on error.

        SQLite allows one writer at a time; taking the lock here (in-process) instead of waiting
        on the file lock keeps concurrent writers of one service from timing out.
        """
        if self._lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._lock, self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only."""
        async with self.sessions() as session:
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()




async def insert_ignoring_duplicates(
    session: AsyncSession,
    model: type[SQLModel],
    values: dict[str, Any],
    conflict_on: list[str],
) -> bool:
    """INSERT that does nothing when a row with the same `conflict_on` columns exists.

    Returns True when the row was inserted. Works on SQLite and PostgreSQL alike.
    """
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict_on)
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]
