"""What an operator's probes and Prometheus see of a running service, on a real broker and database:
`/healthz`, `/readyz` (ready; not ready while the broker is down; the journey service's Temporal),
and `/metrics` with the series ARCHITECTURE.md lists: HTTP requests by status (500s included),
events in and out, handler latency, outbox backlog, dead letters (there from the start), consumer
lag, and the console's journeys by stage. The series are the process's: a test reads what its
actions added to them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from edih.infra import free_port
from services.console.app import SCHEMA as CONSOLE
from services.console.app import create_app as create_console
from shared.contracts import CloudEvent, build_event
from shared.contracts.intake import CompanyRegistered
from shared.inbox import PermanentError
from shared.metrics import initialise_service_series
from shared.service import ServiceContext, build_app
from shared.settings import Settings
from tests.conftest import Tansu
from tests.support.consumers import registered
from tests.support.forwarding import forwarded
from tests.support.served import served
from tests.support.waiting import eventually
from workflows.app import create_app as create_journey

failing = APIRouter()


@failing.get("/boom")
async def boom() -> None:
    raise RuntimeError("a bug in a route")


@failing.get("/fine")
async def fine() -> dict[str, str]:
    return {"fine": "yes"}


async def apply_registration(session: AsyncSession, event: CloudEvent, data: CompanyRegistered) -> None:
    if data.legal_name == "Refused BV":
        raise PermanentError("refused for the test")


Samples = Mapping[tuple[str, frozenset[tuple[str, str]]], float]
# A service of the platform whose consumer the probe plays (its migrations run at start).
PROBED = "console"


@dataclass
class Probe:
    """A running service and an HTTP client to it."""

    name: str
    settings: Settings
    app: FastAPI
    http: httpx.AsyncClient

    async def metrics(self) -> Samples:
        """Every sample of /metrics: (name, labels) -> value."""
        response = await self.http.get("/metrics")
        assert response.status_code == 200
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    async def samples(self, name: str, **labels: str) -> list[float]:
        """The values of the series `name` of this service that carry `labels`."""
        return values(await self.metrics(), name, service=self.name, **labels)

    async def sample(self, name: str, **labels: str) -> float | None:
        found = await self.samples(name, **labels)
        return found[0] if found else None

    async def added(self, before: Samples, name: str, **labels: str) -> float:
        """How much the series `name` grew since `before` (a series that was not there counts 0)."""
        then = values(before, name, service=self.name, **labels)
        return (await self.sample(name, **labels) or 0) - (then[0] if then else 0)


def values(samples: Samples, name: str, **labels: str) -> list[float]:
    return [value for (sample_name, sample_labels), value in samples.items()
            if sample_name == name and labels.items() <= dict(sample_labels).items()]


@asynccontextmanager
async def serving(app: FastAPI, name: str, settings: Settings) -> AsyncIterator[Probe]:
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        # A route that raises answers 500, as uvicorn would, instead of raising into the test.
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://probe",
    ) as http:
        yield Probe(name, settings, app, http)


def probe_app(settings: Settings, name: str) -> FastAPI:
    ctx = ServiceContext.create(name, settings)
    ctx.consumer(["edih.intake.events"], {CompanyRegistered: apply_registration})
    return build_app(ctx, schema=CONSOLE, routers=[failing])


@pytest.fixture
async def probe(settings: Settings) -> AsyncIterator[Probe]:
    settings = settings.model_copy(update={"kafka_lag_interval_seconds": 0.2})
    async with serving(probe_app(settings, PROBED), PROBED, settings) as running_probe:
        yield running_probe


async def publish_on(broker: KafkaBroker, settings: Settings, legal_name: str) -> CloudEvent:
    company_id = str(uuid.uuid4())
    data = registered(company_id, legal_name)
    contract, event = build_event("company-registered", data, sender="intake",
                                  at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    await broker.publish(event.to_bytes(), settings.topic(contract.topic), key=company_id.encode())
    return event


async def test_healthz_and_readyz_answer_while_the_service_runs(probe: Probe):
    health = await probe.http.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "service": probe.name})
    ready = await probe.http.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200, {"status": "ready", "checks": {"database": True, "broker": True}}
    )


async def test_readyz_says_not_ready_while_the_broker_is_down(own_tansu: Tansu, settings: Settings):
    settings = settings.model_copy(update={"kafka_bootstrap_servers": own_tansu.bootstrap})
    async with serving(probe_app(settings, PROBED), PROBED, settings) as probe:
        own_tansu.stop()
        try:
            refused = await probe.http.get("/readyz")
            assert (refused.status_code, refused.json()) == (
                503, {"status": "not ready", "checks": {"database": True, "broker": False}}
            )
            assert (await probe.http.get("/healthz")).status_code == 200  # alive all the same
        finally:
            own_tansu.start()

        async def ready_again() -> bool:
            return (await probe.http.get("/readyz")).status_code == 200

        await eventually(ready_again, timeout=30, message="ready after the broker is back")


async def test_a_service_check_that_fails_or_raises_makes_the_service_not_ready(settings: Settings):
    async def answers() -> bool:
        return True

    async def unreachable() -> bool:
        return False

    async def broken() -> bool:
        raise ConnectionError("no route to the dependency")

    checks = {"answers": answers, "unreachable": unreachable, "broken": broken}
    app = build_app(ServiceContext.create(PROBED, settings), schema=CONSOLE, ready_checks=checks)
    async with serving(app, PROBED, settings) as probe:
        response = await probe.http.get("/readyz")
        assert (response.status_code, response.json()["checks"]) == (503, {
            "database": True, "broker": True, "answers": True, "unreachable": False, "broken": False,
        })


async def test_the_journey_service_is_ready_only_with_temporal(settings: Settings, temporal_address: str):
    # The journey service reaches Temporal through a port the test can cut while the service runs.
    temporal_port = int(temporal_address.rsplit(":", 1)[1])
    async with forwarded(free_port(), temporal_port) as temporal:
        settings = settings.model_copy(update={"temporal_address": f"127.0.0.1:{temporal.port}",
                                               "temporal_task_queue": f"q-{uuid.uuid4().hex}"})
        app = create_journey(settings)
        async with served(app, "journey") as url, httpx.AsyncClient(base_url=url) as http:

            async def readiness() -> tuple[int, dict[str, bool]]:
                response = await http.get("/readyz", timeout=30)
                return response.status_code, response.json()["checks"]

            assert await readiness() == (200, {"database": True, "broker": True, "temporal": True})
            await temporal.cut()
            assert await readiness() == (503, {"database": True, "broker": True, "temporal": False})
            await temporal.restore()
            await eventually(lambda: _ready(http), timeout=30, message="ready again with Temporal back")


async def _ready(http: httpx.AsyncClient) -> bool:
    return (await http.get("/readyz", timeout=30)).status_code == 200


async def test_metrics_count_http_requests_by_status_including_500s(probe: Probe):
    before = await probe.metrics()
    assert (await probe.http.get("/fine")).status_code == 200
    assert (await probe.http.get("/boom")).status_code == 500
    assert (await probe.http.get("/no-such-page")).status_code == 404
    requests = "edih_http_requests_total"
    assert await probe.added(before, requests, method="GET", route="/fine", status="200") == 1
    assert await probe.added(before, requests, method="GET", route="/boom", status="500") == 1
    assert await probe.added(before, requests, method="GET", route="unmatched", status="404") == 1
    assert await probe.added(before, "edih_http_request_seconds_count", method="GET", route="/boom") == 1


def test_a_services_series_start_at_zero():
    service = f"new-{uuid.uuid4().hex[:8]}"
    initialise_service_series(service)
    for name in ("edih_dead_letters_total", "edih_events_out_total", "edih_outbox_backlog"):
        assert REGISTRY.get_sample_value(name, {"service": service}) == 0


async def test_metrics_count_events_dead_letters_lag_and_backlog(probe: Probe):
    publisher: KafkaBroker = probe.app.state.ctx.broker
    # A dashboard finds the service's dead letters and published records from the start.
    before = await probe.metrics()
    for name in ("edih_dead_letters_total", "edih_events_out_total", "edih_outbox_backlog"):
        assert values(before, name, service=probe.name), name

    await publish_on(publisher, probe.settings, "Acme BV")
    await publish_on(publisher, probe.settings, "Refused BV")
    event_type = {"type": "company-registered"}

    async def both_counted() -> bool:
        # The two companies' records may sit on different partitions: either may come first.
        return (await probe.added(before, "edih_dead_letters_total") == 1
                and await probe.added(before, "edih_events_in_total", **event_type, outcome="applied") == 1)

    await eventually(both_counted, timeout=60, message="one applied event and one dead letter")
    assert await probe.added(before, "edih_events_in_total", **event_type, outcome="dead-letter") == 1
    # Both are timed: the applied one and the refused one.
    assert await probe.added(before, "edih_event_handler_seconds_count", **event_type) == 2

    async def dead_letter_published() -> bool:  # through the service's outbox, to its dead-letter topic
        return await probe.added(before, "edih_events_out_total") >= 1

    await eventually(dead_letter_published, message="the dead letter published")
    assert await probe.sample("edih_outbox_backlog") == 0
    topic = probe.settings.topic("edih.intake.events")

    async def caught_up() -> bool:  # measured by the consumer every kafka_lag_interval_seconds
        lags = await probe.samples("edih_consumer_lag", topic=topic)
        return bool(lags) and all(lag == 0 for lag in lags)

    await eventually(caught_up, message="no consumer lag left")


async def test_the_console_reports_journeys_by_stage(settings: Settings):
    async with serving(create_console(settings), "console", settings) as console:
        stages = {dict(labels)["stage"] for (name, labels), _ in (await console.metrics()).items()
                  if name == "edih_journeys"}
        assert {"registered", "in_services", "closed"} <= stages
