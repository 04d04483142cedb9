"""Dead letters replayed once their cause is fixed, as an operator does it: through a service's
`/admin/dead-letters` endpoints and `edih dead-letters`, on a real Tansu broker and a real database
(SQLite, and PostgreSQL where EDIH_TEST_POSTGRES_URL is set). A refused event is listed, a retry
that fails again keeps it open, the fixed handler applies it once and resolves it, and a second
retry is refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from edih.cli import main as edih
from services.console.app import SCHEMA as CONSOLE
from shared.auth import Role, issue_token
from shared.contracts import CloudEvent
from shared.contracts.intake import CompanyRegistered
from shared.inbox import DeadLetter, PermanentError
from shared.service import ServiceContext, build_app
from shared.settings import Settings
from tests.support.consumers import (
    INTAKE_EVENTS,
    SeenCompany,
    consuming_service,
    count,
    publish_registration,
    publishing_service,
    record_company,
)
from tests.support.served import served
from tests.support.waiting import eventually


class RegionNotServed:
    """A handler that refuses every registration until it is fixed."""

    def __init__(self) -> None:
        self.fixed = False

    async def __call__(self, session: AsyncSession, event: CloudEvent, data: CompanyRegistered) -> None:
        if not self.fixed:
            raise PermanentError(f"region {data.region} is not served")
        await record_company(session, event, data)


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[ServiceContext]:
    async with publishing_service(settings, relay=True) as ctx:
        yield ctx


@pytest.fixture
def handler() -> RegionNotServed:
    return RegionNotServed()


@pytest.fixture
async def service(settings: Settings, handler: RegionNotServed) -> FastAPI:
    """A service built by build_app whose consumer runs the refusing handler (not started)."""
    ctx = consuming_service(settings, {CompanyRegistered: handler})
    await ctx.db.create_all([SeenCompany])  # the test handler's table; the app migrates the rest
    return build_app(ctx, schema=CONSOLE)  # consuming_service is named console


@asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as client:
        yield client


def auth(settings: Settings, role: Role = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, 'tester', role)}"}


async def open_letters(client: httpx.AsyncClient, settings: Settings) -> list[dict[str, Any]]:
    response = await client.get("/admin/dead-letters", params={"open": "true"}, headers=auth(settings))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_refused_event_is_retried_once_its_handler_is_fixed(
    producer, service, handler, settings
):
    ctx: ServiceContext = service.state.ctx
    company_id = str(uuid.uuid4())
    async with started(service) as client:
        event = await publish_registration(producer, company_id)
        (letter,) = await eventually(lambda: open_letters(client, settings), message="a dead letter")
        assert (letter["consumer"], letter["topic"], letter["event_id"]) == (
            "console", settings.topic(INTAKE_EVENTS), event.id)
        assert letter["error"] == "refused: region drenthe is not served"
        assert letter["resolved_at"] is None and letter["created_at"]
        retry = f"/admin/dead-letters/{letter['id']}/retry"

        # Retried before the fix: refused again, still open.
        response = await client.post(retry, headers=auth(settings))
        assert response.status_code == 409
        assert response.json()["error"] == "refused: region drenthe is not served"
        assert [still["id"] for still in await open_letters(client, settings)] == [letter["id"]]

        handler.fixed = True
        response = await client.post(retry, headers=auth(settings))
        assert response.status_code == 200, response.text
        outcome = response.json()
        assert (outcome["outcome"], outcome["resolved_by"]) == ("applied", "tester")
        assert await count(ctx, SeenCompany, SeenCompany.company_id == company_id) == 1

        again = await client.post(retry, headers=auth(settings))
        assert again.status_code == 409
        assert "was resolved" in again.json()["detail"]
        assert await count(ctx, SeenCompany, SeenCompany.company_id == company_id) == 1
        assert await open_letters(client, settings) == []
        (listed,) = (await client.get("/admin/dead-letters", headers=auth(settings))).json()
        assert (listed["resolved_at"], listed["resolved_by"]) == (outcome["resolved_at"], "tester")


async def test_only_an_admin_sees_and_retries_dead_letters(service, settings):
    async with started(service) as client:
        for role in ("viewer", "advisor", "service"):
            assert (await client.get("/admin/dead-letters", headers=auth(settings, role))).status_code == 403
            assert (await client.post("/admin/dead-letters/1/retry",
                                      headers=auth(settings, role))).status_code == 403
        assert (await client.get("/admin/dead-letters")).status_code == 401
        missing = await client.post("/admin/dead-letters/999/retry", headers=auth(settings))
        assert missing.status_code == 404


async def test_edih_dead_letters_lists_and_retries_through_the_service(
    producer, service, handler, settings, monkeypatch, capsys
):
    ctx: ServiceContext = service.state.ctx
    company_id = str(uuid.uuid4())
    async with served(service) as url:
        monkeypatch.setenv("EDIH_CONSOLE_URL", url)
        await publish_registration(producer, company_id)
        await eventually(lambda: _has_dead_letter(ctx), message="a dead letter")

        assert await asyncio.to_thread(edih, ["dead-letters", "list", "--service", "console"]) == 0
        listing = capsys.readouterr().out
        assert "console: 1 dead letter(s), 1 open" in listing
        assert "refused: region drenthe is not served" in listing
        letter_id = listing.split("#", 1)[1].split()[0]

        handler.fixed = True
        assert await asyncio.to_thread(edih, ["dead-letters", "retry", "console", letter_id]) == 0
        assert f"console dead letter {letter_id}: applied" in capsys.readouterr().out
        assert await asyncio.to_thread(edih, ["dead-letters", "retry", "console", letter_id]) == 1
        assert "409" in capsys.readouterr().err
        assert await count(ctx, SeenCompany, SeenCompany.company_id == company_id) == 1

        assert await asyncio.to_thread(edih, ["dead-letters", "list", "--service", "console",
                                              "--open"]) == 0
        assert "console: 0 dead letter(s), 0 open" in capsys.readouterr().out


async def _has_dead_letter(ctx: ServiceContext) -> bool:
    return await count(ctx, DeadLetter) == 1
