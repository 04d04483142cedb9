"""The training service in-process for the integration tests: its app on a real broker and
database at a fixed moment, a client with tokens of any role, the facts it consumes fed through its
own consumer, and reads of what it wrote to its outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import select

from services.training.app import create_app
from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.contracts import CloudEvent, build_event
from shared.contracts.base import EventData
from shared.contracts.intake import CompanyRegistered
from shared.outbox import OutboxRecord
from shared.service import ServiceContext
from shared.settings import Settings

# A Monday morning in the hub's winter time.
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Training:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    clock: FixedClock

    @property
    def ctx(self) -> ServiceContext:
        return self.app.state.ctx  # type: ignore[no-any-return]

    def auth(self, role: Role, regions: list[str] | None = None) -> dict[str, str]:
        if regions is None and role == "advisor":
            regions = ["drenthe", "groningen", "friesland"]
        return {"Authorization": f"Bearer {issue_token(self.settings, 'tester', role, regions=regions)}"}

    async def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        role: Role | None = "admin",
        regions: list[str] | None = None,
        **params: Any,
    ) -> httpx.Response:
        headers = self.auth(role, regions) if role else {}
        return await self.client.request(method, url, json=body, headers=headers, params=params or None)

    async def ok(self, method: str, url: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call(method, url, body, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def feed(self, name: str, data: EventData, sender: str = "intake") -> str:
        """Run a fact or command through training's own consumer, as if it came from the broker."""
        owner = "training" if name.startswith("service-") else None
        event = build_event(name, data, sender=sender, at=self.clock.now(), service=owner)[1]
        consumer = self.ctx.consumers[0]
        return await consumer.process(
            event.to_bytes(),
            topic="test",
            partition=0,
            offset=int(uuid.uuid4().int % 1_000_000),
            key=data.company_id,
        )

    async def register(self, company_id: str | None = None, region: str = "drenthe") -> str:
        company_id = company_id or str(uuid.uuid4())
        await self.feed(
            "company-registered",
            CompanyRegistered(
                hub_id="nl-noord",
                company_id=company_id,
                kvk_number="01234567",
                legal_name="Staalbouw Noord B.V.",
                region=region,
                nace_code="C25.11",
                cohort_status="admitted",
            ),
        )  # type: ignore[arg-type]
        return company_id

    async def events(
        self, name: str | None = None, topic: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(short name, data) of what training wrote to its outbox, in order."""
        async with self.ctx.db.reading() as session:
            rows = (await session.execute(select(OutboxRecord).order_by(OutboxRecord.seq))).scalars().all()
        found = []
        for row in rows:
            if topic is not None and row.topic != self.settings.topic(topic):
                continue
            event = CloudEvent.from_bytes(row.payload)
            short = event.type.split(".")[3]
            if name is None or short == name:
                found.append((short, event.data))
        return found


@asynccontextmanager
async def running_training(settings: Settings, clock: FixedClock | None = None) -> AsyncIterator[Training]:
    """The training service in-process at a fixed moment, with a client to call it."""
    clock = clock or FixedClock(NOW)
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://training.test") as client:
            yield Training(app, client, settings, clock)


def course(**fields: Any) -> dict[str, Any]:
    return {
        "title_nl": "Cobots in de praktijk",
        "title_en": "Cobots in practice",
        "topic": "cobots",
        "description_nl": "Werken met cobots",
        "description_en": "Working with cobots",
        "dimensions": ["automation_ai", "digital_readiness"],
        "partner": "innovatiecluster-drachten",
        "duration_hours": "4",
        "format": "on_site",
        "cost_per_participant_eur": "350.00",
        **fields,
    }


def session_at(starts: str, ends: str, capacity: int = 2, **fields: Any) -> dict[str, Any]:
    """A session in the hub's local time (naive ISO moments)."""
    return {"starts_at": starts, "ends_at": ends, "location": "Drachten", "capacity": capacity, **fields}


def participant(company_id: str, n: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "participant_name": f"Deelnemer {n}",
        "email": f"p{n}@staalbouw.nl",
        "role": "operator",
        "language": "nl",
        **fields,
    }


def at(moment: str) -> datetime:
    """A UTC moment written as ISO text."""
    return datetime.fromisoformat(moment).astimezone(UTC)
