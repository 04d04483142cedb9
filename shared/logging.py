"""Structured JSON logs, one object a line, carrying the CloudEvent id and company id in context."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

_event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
_company_id: ContextVar[str | None] = ContextVar("company_id", default=None)


@contextmanager
def event_context(*, event_id: str | None = None, company_id: str | None = None) -> Iterator[None]:
    """Within the block, every log line names this event and company."""
    tokens = (_event_id.set(event_id), _company_id.set(company_id))
    try:
        yield
    finally:
        _event_id.reset(tokens[0])
        _company_id.reset(tokens[1])


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (event_id := _event_id.get()) is not None:
            entry["event_id"] = event_id
        if (company_id := _company_id.get()) is not None:
            entry["company_id"] = company_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log line of this process to `stream` (stderr) as JSON."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "temporalio", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
