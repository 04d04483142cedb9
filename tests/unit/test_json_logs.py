"""A service's logs as a log collector reads them: one JSON object a line with time, level, service,
logger and message; inside a consumer's handling of an event also the CloudEvent id and the company
id, on the handler's own lines and on the consumer's retry warnings and dead-letter errors."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker

from shared.contracts import CloudEvent, build_event
from shared.contracts.intake import CompanyRegistered
from shared.inbox import PermanentError
from shared.logging import configure_logging
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings

handler_log = logging.getLogger("services.console.handlers")


@pytest.fixture
def json_logs() -> Iterator[Any]:
    """Logging configured as `serve` configures it; gives the lines written so far, parsed."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level,
             {name: logging.getLogger(name).level for name in ("aiokafka", "temporalio", "uvicorn.access")})
    stream = io.StringIO()
    configure_logging("console", "INFO", stream=stream)

    def lines() -> list[dict[str, Any]]:
        # json.loads fails on any line that is not exactly one object.
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_a_line_has_time_level_service_logger_and_message(json_logs):
    logging.getLogger("services.console.api").info("signed in %s", "ánna\nnext line")
    logging.getLogger("services.console.api").debug("below the level")
    [line] = json_logs()
    assert line.keys() == {"time", "level", "service", "logger", "message"}
    assert (line["level"], line["service"], line["logger"], line["message"]) == (
        "info", "console", "services.console.api", "signed in ánna\nnext line")
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


def test_an_error_line_carries_its_traceback(json_logs):
    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("shared.outbox").exception("publishing failed")
    [line] = json_logs()
    assert line["level"] == "error" and "ValueError: bad value" in line["error"]


def registration(company_id: str, legal_name: str = "Acme BV") -> CloudEvent:
    data = CompanyRegistered(hub_id="nl-noord", company_id=company_id, kvk_number="12345678",
                             legal_name=legal_name, region="groningen", nace_code="C10",
                             cohort_status="admitted")
    return build_event("company-registered", data, sender="intake", at=datetime(2026, 3, 2, tzinfo=UTC))[1]


async def log_and_maybe_fail(session: Any, event: CloudEvent, data: CompanyRegistered) -> None:
    handler_log.info("applying the registration")
    if data.legal_name == "Broken BV":
        raise RuntimeError("a bug in the handler")
    if data.legal_name == "Refused BV":
        raise PermanentError("this registration cannot be applied")


async def test_lines_inside_a_consumers_event_name_the_event_and_the_company(json_logs, tmp_path: Path):
    ctx = ServiceContext.create("console", Settings(data_dir=tmp_path, consumer_attempts=2,
                                                    consumer_retry_base_seconds=0.01))
    ctx.consumer(["edih.intake.events"], {CompanyRegistered: log_and_maybe_fail})
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    applied, broken = registration("c-1"), registration("c-2", "Broken BV")
    refused = registration("c-3", "Refused BV")
    try:
        async with TestKafkaBroker(ctx.broker) as broker:
            for event in (applied, broken, refused):
                # As the outbox relay publishes: the event id also in the `ce_id` header.
                await broker.publish(event.to_bytes(), "edih.intake.events", key=event.subject.encode(),
                                     headers={"ce_id": event.id})
    finally:
        await ctx.db.dispose()
    logging.getLogger("shared.service").info("after the events")

    lines = json_logs()
    in_context = [(line["logger"], line["level"], line.get("event_id"), line.get("company_id"))
                  for line in lines if line["logger"] in ("services.console.handlers", "shared.inbox")]
    assert in_context == [
        ("services.console.handlers", "info", applied.id, "c-1"),
        ("services.console.handlers", "info", broken.id, "c-2"),
        ("shared.inbox", "warning", broken.id, "c-2"),  # to be tried again
        ("services.console.handlers", "info", refused.id, "c-3"),
        ("shared.inbox", "error", refused.id, "c-3"),  # the dead letter
    ]
    [retry] = [line for line in lines if line["level"] == "warning"]
    assert "RuntimeError: a bug in the handler" in retry["error"]
    assert all(line["service"] == "console" for line in lines)
    [after] = [line for line in lines if line["message"] == "after the events"]
    assert "event_id" not in after and "company_id" not in after
