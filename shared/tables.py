"""What a service's database holds, as the migrations see it: the infrastructure tables every
service has (outbox, inbox, dead letters, idempotent responses) and a `Schema`, the description a
service hands `build_app` of its own tables and where their revisions live.

Here rather than in shared/service.py or shared/migrations.py so both (and the tests) import it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import SQLModel

from shared.idempotency import StoredResponse
from shared.inbox import DeadLetter, ProcessedEvent
from shared.outbox import OutboxRecord

INFRASTRUCTURE_TABLES: tuple[type[SQLModel], ...] = (
    OutboxRecord, ProcessedEvent, DeadLetter, StoredResponse,
)


@dataclass(frozen=True)
class Schema:
    """A history of migrations: its name (the Alembic branch, the service's name), the models of its
    tables (a service's `MODELS`) and the folder of its revisions (`<package>/migrations`; a
    service without tables of its own, like the journey, has none on disk)."""

    name: str
    models: tuple[type[SQLModel], ...]
    folder: Path

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(str(m.__tablename__) for m in self.models)

    @classmethod
    def of_package(cls, name: str, models: tuple[type[SQLModel], ...], module_file: str) -> Schema:
        """The schema of a service whose revisions lie in `migrations/` beside `module_file`."""
        return cls(name, models, Path(module_file).parent / "migrations")


INFRASTRUCTURE_SCHEMA = Schema("infrastructure", INFRASTRUCTURE_TABLES,
                               Path(__file__).parent / "alembic" / "versions")
