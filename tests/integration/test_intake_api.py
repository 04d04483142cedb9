"""The intake API as a client sees it, with the service running in-process on a real Tansu broker
and a real database (SQLite, and PostgreSQL where EDIH_TEST_POSTGRES_URL is set): registering a
company answers with it and publishes `company-registered`, retries and duplicates write nothing
new, bad input and missing rights are refused, and services can resolve the primary contact."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from sqlmodel import SQLModel, func, select

from services.intake.app import create_app
from services.intake.models import Company, Contact
from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.contracts import CloudEvent
from shared.idempotency import StoredResponse
from shared.outbox import OutboxRecord
from shared.service import ServiceContext
from shared.settings import Settings
from tests.support.waiting import eventually

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EVENT_TYPE = "eu.edih.intake.company-registered.v1"


@dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    clock: FixedClock

    @property
    def ctx(self) -> ServiceContext:
        return self.app.state.ctx

    def auth(self, role: Role, regions: list[str] | None = None, **headers: str) -> dict[str, str]:
        """Headers with a token of `role`; an advisor works in every region unless `regions` says."""
        if regions is None and role == "advisor":
            regions = ["drenthe", "groningen", "friesland"]
        token = issue_token(self.settings, "tester", role, regions=regions)
        return {"Authorization": f"Bearer {token}", **headers}

    async def register(
        self, body: dict[str, Any], role: Role = "admin", key: str | None = None
    ) -> httpx.Response:
        headers = self.auth(role) if key is None else self.auth(role, **{"Idempotency-Key": key})
        return await self.client.post("/companies", json=body, headers=headers)

    async def call(
        self, method: str, url: str, body: Any = None, role: Role | None = "admin", **params: Any
    ) -> httpx.Response:
        """A request as staff of `role` (None: without a token)."""
        headers = self.auth(role) if role else {}
        return await self.client.request(method, url, json=body, headers=headers, params=params or None)

    async def events(self, name: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(short name, data) of every event in intake's outbox, in order, or only those of `name`."""
        async with self.ctx.db.reading() as session:
            rows = (await session.execute(select(OutboxRecord).order_by(OutboxRecord.seq))).scalars().all()
        found = []
        for row in rows:
            event = CloudEvent.from_bytes(row.payload)
            short = event.type.removeprefix("eu.edih.intake.").removesuffix(".v1")
            if name is None or short == name:
                found.append((short, event.data))
        return found

    async def count(self, model: type[SQLModel]) -> int:
        async with self.ctx.db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def counts(self) -> dict[str, int]:
        """What a registration writes: companies, contacts, outbox rows and stored responses."""
        return {m.__name__: await self.count(m) for m in (Company, Contact, OutboxRecord, StoredResponse)}


@asynccontextmanager
async def running_intake(settings: Settings) -> AsyncIterator[Intake]:
    """The intake service in-process at a fixed moment, with a client to call it."""
    clock = FixedClock(NOW)
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
            yield Intake(app, client, settings, clock)


@pytest.fixture
async def intake(settings: Settings) -> AsyncIterator[Intake]:
    async with running_intake(settings) as running:
        yield running


def registration(kvk_number: Any = "01234567", **fields: Any) -> dict[str, Any]:
    return {
        "kvk_number": kvk_number,
        "legal_name": "Staalbouw Noord B.V.",
        "region": "drenthe",
        "nace_code": "C25.11",
        "contacts": [
            {"name": "Jan de Vries", "role": "operations manager", "phone": "+31 50 123 4567"},
            {"name": "Anna Bakker", "role": "director", "email": "anna@staalbouw-noord.nl",
             "language": "en"},
            {"name": "Piet Smit", "role": "IT", "email": "piet@staalbouw-noord.nl"},
        ],
        **fields,
    }


async def published(settings: Settings, company_id: str) -> list[tuple[bytes, bytes]]:
    """The (key, value) of every record about `company_id` on intake's events topic."""
    reader = AIOKafkaConsumer(
        settings.topic("edih.intake.events"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await reader.start()
    found: list[tuple[bytes, bytes]] = []
    try:

        async def arrived() -> bool:
            for records in (await reader.getmany(timeout_ms=300)).values():
                found.extend(
                    (r.key, r.value) for r in records
                    if r.value and CloudEvent.from_bytes(r.value).subject == company_id
                )
            return bool(found)

        await eventually(arrived, message=f"company-registered of {company_id} on the broker")
        # Drain what else is there, so a duplicate would be seen too.
        for records in (await reader.getmany(timeout_ms=500)).values():
            found.extend((r.key, r.value) for r in records
                         if r.value and CloudEvent.from_bytes(r.value).subject == company_id)
    finally:
        await reader.stop()
    return found


async def test_a_registration_is_answered_with_the_company_and_published_without_contact_data(
    intake: Intake,
):
    response = await intake.register(registration())

    assert response.status_code == 201, response.text
    company = response.json()
    assert company["kvk_number"] == "01234567"
    assert company["legal_name"] == "Staalbouw Noord B.V."
    assert (company["region"], company["nace_code"]) == ("drenthe", "C25.11")
    assert company["cohort_status"] == "admitted"
    assert company["created_at"] == "2026-03-02T09:30:00Z"
    uuid.UUID(company["id"])
    assert [c["name"] for c in company["contacts"]] == ["Jan de Vries", "Anna Bakker", "Piet Smit"]
    assert [c["language"] for c in company["contacts"]] == ["nl", "en", "nl"]
    assert len({c["id"] for c in company["contacts"]}) == 3

    [(key, value)] = await published(intake.settings, company["id"])
    event = CloudEvent.from_bytes(value)
    assert key == company["id"].encode()
    assert event.type == EVENT_TYPE
    assert event.source == "/nl-noord/intake"
    assert event.data == {
        "hub_id": "nl-noord", "company_id": company["id"], "kvk_number": "01234567",
        "legal_name": "Staalbouw Noord B.V.", "region": "drenthe", "nace_code": "C25.11",
        "cohort_status": "admitted",
    }
    for personal in (b"Anna", b"Bakker", b"staalbouw-noord.nl", b"123 4567", b"Jan de Vries"):
        assert personal not in value
    await eventually(lambda: _all_sent(intake), message="outbox row marked sent")


async def _all_sent(intake: Intake) -> bool:
    async with intake.ctx.db.reading() as session:
        rows = (await session.execute(select(OutboxRecord))).scalars().all()
    return len(rows) == 1 and rows[0].sent_at is not None


async def test_a_registered_company_can_be_read_back_and_found_by_kvk_number(intake: Intake):
    created = (await intake.register(registration())).json()

    read = await intake.client.get(f"/companies/{created['id']}", headers=intake.auth("viewer"))
    found = await intake.client.get("/companies", params={"kvk": "01234567"},
                                    headers=intake.auth("advisor"))
    not_found = await intake.client.get("/companies", params={"kvk": "99999999"},
                                        headers=intake.auth("advisor"))

    mistyped = await intake.client.get("/companies", params={"kvk": "0123456"},
                                       headers=intake.auth("advisor"))

    assert read.status_code == 200
    assert read.json() == created
    assert found.json() == [created]
    assert not_found.json() == []
    assert mistyped.status_code == 422
    assert "8 digits" in mistyped.json()["detail"]


async def test_an_unknown_company_is_404_naming_the_id(intake: Intake):
    unknown = str(uuid.uuid4())
    response = await intake.client.get(f"/companies/{unknown}", headers=intake.auth("admin"))
    assert response.status_code == 404
    assert unknown in response.json()["detail"]


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_writes_nothing(
    intake: Intake,
):
    first = await intake.register(registration(), key="register-01234567")
    again = await intake.register(registration(), key="register-01234567")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replay") == "true"
    assert await intake.counts() == {"Company": 1, "Contact": 3, "OutboxRecord": 1, "StoredResponse": 1}
    assert len(await published(intake.settings, first.json()["id"])) == 1


async def test_concurrent_retries_with_one_idempotency_key_register_once(intake: Intake):
    responses = await asyncio.gather(
        *(intake.register(registration(), key="same-key") for _ in range(3))
    )

    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await intake.counts())["Company"] == 1


async def test_a_kvk_number_already_registered_is_409_naming_the_existing_company(intake: Intake):
    existing = (await intake.register(registration())).json()

    response = await intake.register(
        registration(legal_name="Staalbouw Noord Holding"), key="another"
    )

    assert response.status_code == 409
    assert response.json()["company_id"] == existing["id"]
    assert existing["id"] in response.json()["detail"]
    assert await intake.counts() == {"Company": 1, "Contact": 3, "OutboxRecord": 1, "StoredResponse": 0}


async def test_concurrent_registrations_of_one_kvk_number_register_it_once(intake: Intake):
    responses = await asyncio.gather(
        *(intake.register(registration(legal_name=f"Attempt {i}")) for i in range(4))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    [winner] = [r.json() for r in responses if r.status_code == 201]
    assert {r.json()["company_id"] for r in responses if r.status_code == 409} == {winner["id"]}
    assert (await intake.counts())["Company"] == 1
    assert (await intake.counts())["OutboxRecord"] == 1


def _without_emails(body: dict[str, Any]) -> dict[str, Any]:
    body["contacts"] = [{k: v for k, v in c.items() if k != "email"} for c in body["contacts"]]
    return body


def _with_contact_field(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body["contacts"][1].update(fields)
    return body


BAD_INPUT = {
    "kvk number of 7 digits": (registration("1234567"), "kvk_number: a KvK number has exactly 8"),
    "kvk number with a letter": (registration("1234567a"), "kvk_number"),
    "kvk number as a JSON number": (registration(12345678), "kvk_number: Input should be a valid string"),
    "unknown region": (registration(region="utrecht"), "unknown region 'utrecht'"),
    "no contacts": (registration(contacts=[]), "contacts: at least one contact is required"),
    "no contact with an e-mail": (_without_emails(registration()), "at least one contact with an e-mail"),
    "invalid e-mail": (_with_contact_field(registration(), email="anna-at-staalbouw.nl"),
                       "contacts.1.email: 'anna-at-staalbouw.nl' is not an e-mail address"),
    "unknown language": (_with_contact_field(registration(), language="de"), "contacts.1.language"),
    "contact without a name": (_with_contact_field(registration(), name="  "), "contacts.1.name"),
    "no legal name": ({k: v for k, v in registration().items() if k != "legal_name"},
                      "legal_name: Field required"),
    "not a nace code": (registration(nace_code="metal"), "not a NACE code"),
    "nace letter against its division": (registration(nace_code="C62.01"), "division 62 is in section J"),
    "vat number failing the checks": (registration(vat_number="NL004495446B01"), "not a valid Dutch VAT"),
    "unknown size class": (registration(size_class="10-50"), "size_class"),
    "foundation year out of range": (registration(foundation_year=1066), "foundation_year"),
    "not a website": (registration(website="staalbouw"), "not a website address"),
    "malformed JSON": (b'{"kvk_number": "01234567", "legal_name": ', "JSON"),
}


async def test_bad_input_is_422_with_a_clear_message_and_writes_nothing(intake: Intake):
    for case, (body, message) in BAD_INPUT.items():
        content = body if isinstance(body, bytes) else json.dumps(body).encode()

        response = await intake.client.post(
            "/companies", content=content,
            headers=intake.auth("admin", **{"Content-Type": "application/json", "Idempotency-Key": case}),
        )

        assert response.status_code == 422, (case, response.text)
        assert message in response.json()["message"], case
    assert await intake.counts() == {"Company": 0, "Contact": 0, "OutboxRecord": 0, "StoredResponse": 0}


async def test_registering_needs_a_token_of_an_admin_or_advisor(intake: Intake):
    anonymous = await intake.client.post("/companies", json=registration())
    viewer = await intake.register(registration(), role="viewer")
    service = await intake.register(registration(), role="service")
    advisor = await intake.register(registration(), role="advisor")

    assert anonymous.status_code == 401
    assert (viewer.status_code, service.status_code) == (403, 403)
    assert "viewer" in viewer.json()["detail"]
    assert advisor.status_code == 201
    assert (await intake.counts())["Company"] == 1


async def test_reading_a_company_needs_a_token(intake: Intake):
    created = (await intake.register(registration())).json()
    assert (await intake.client.get(f"/companies/{created['id']}")).status_code == 401
    assert (await intake.client.get("/companies")).status_code == 401


async def test_a_service_resolves_the_primary_contact_the_first_with_an_email(intake: Intake):
    company_id = (await intake.register(registration())).json()["id"]

    response = await intake.client.get(
        f"/internal/recipients/primary-contact/{company_id}", headers=intake.auth("service")
    )

    assert response.status_code == 200
    assert response.json() == {"name": "Anna Bakker", "email": "anna@staalbouw-noord.nl", "language": "en"}


async def test_only_services_resolve_recipients(intake: Intake):
    company_id = (await intake.register(registration())).json()["id"]
    url = f"/internal/recipients/primary-contact/{company_id}"

    assert (await intake.client.get(url)).status_code == 401
    staff: tuple[Role, ...] = ("admin", "advisor", "viewer")
    for role in staff:
        response = await intake.client.get(url, headers=intake.auth(role))
        assert response.status_code == 403, role


async def test_an_unknown_recipient_kind_or_company_is_404(intake: Intake):
    company_id = (await intake.register(registration())).json()["id"]
    service = intake.auth("service")

    unknown_kind = await intake.client.get(f"/internal/recipients/advisor/{company_id}", headers=service)
    unknown_company = await intake.client.get(
        f"/internal/recipients/primary-contact/{uuid.uuid4()}", headers=service
    )

    assert unknown_kind.status_code == 404
    assert "primary-contact" in unknown_kind.json()["detail"]
    assert unknown_company.status_code == 404
    assert "no company" in unknown_company.json()["detail"]


async def test_the_optional_registry_fields_are_checked_normalised_and_read_back(intake: Intake):
    response = await intake.register(registration(
        vat_number="nl 0044.95.445.B01", size_class="10-49", foundation_year=1987,
        website="staalbouw-noord.nl",
    ))

    assert response.status_code == 201, response.text
    company = response.json()
    assert (company["vat_number"], company["size_class"], company["foundation_year"], company["website"]) == (
        "NL004495445B01", "10-49", 1987, "https://staalbouw-noord.nl"
    )
    assert (company["pool"], company["waitlist_position"], company["exit_status"]) == ("drenthe", None, None)
    read = await intake.call("GET", f"/companies/{company['id']}", role="viewer")
    assert read.json() == company


async def test_an_advisor_works_only_on_the_companies_of_its_regions(intake: Intake):
    drenthe = (await intake.register(registration())).json()
    friesland_advisor = intake.auth("advisor", regions=["friesland"])

    read = await intake.client.get(f"/companies/{drenthe['id']}", headers=friesland_advisor)
    listed = await intake.client.get("/companies", headers=friesland_advisor)
    changed = await intake.client.patch(f"/companies/{drenthe['id']}", json={"size_class": "1-9"},
                                        headers=friesland_advisor)
    registered = await intake.client.post("/companies", json=registration("76543210"),
                                          headers=friesland_advisor)
    own = await intake.client.post("/companies", json=registration("76543210", region="friesland"),
                                   headers=friesland_advisor)

    assert (read.status_code, changed.status_code) == (404, 404)
    assert listed.json() == []
    assert registered.status_code == 403
    assert "its own regions (friesland)" in registered.json()["detail"]
    assert own.status_code == 201
    assert [c["id"] for c in (await intake.client.get("/companies", headers=friesland_advisor)).json()] == [
        own.json()["id"]
    ]
    viewer = await intake.client.get(f"/companies/{drenthe['id']}", headers=intake.auth("viewer"))
    assert viewer.status_code == 200
