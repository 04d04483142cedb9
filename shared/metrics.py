"""Prometheus metrics every service exposes on `/metrics`, labelled by service.

One process runs one service, so the default registry serves; the `service` label keeps tests
that run several services in one process apart.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "edih_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "edih_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)
EVENTS_IN = Counter(
    "edih_events_in_total", "Events consumed, by outcome", ["service", "type", "outcome"]
)
EVENTS_OUT = Counter("edih_events_out_total", "Outbox records published", ["service"])
HANDLER_LATENCY = Histogram(
    "edih_event_handler_seconds", "Time to handle one event", ["service", "type"]
)
OUTBOX_BACKLOG = Gauge("edih_outbox_backlog", "Outbox records not yet published", ["service"])
DEAD_LETTERS = Counter("edih_dead_letters_total", "Records sent to a dead-letter topic", ["service"])
# reason: "unavailable" (a dependency is down: retried without limit) or "failed" (any other error:
# retried up to the configured attempts, then dead-lettered).
EVENT_RETRIES = Counter(
    "edih_event_retries_total", "Deliveries of a record that failed and will come again",
    ["service", "reason"],
)
CONSUMER_LAG = Gauge(
    "edih_consumer_lag", "Records behind the end of the partition", ["service", "topic", "partition"]
)
JOURNEYS_BY_STAGE = Gauge("edih_journeys", "Journeys per stage", ["stage"])


def initialise_service_series(service: str) -> None:
    """Give `service`'s counters and gauges a series at 0, so a dashboard or an alert sees a
    service that has published nothing or had no dead letter yet, instead of no data."""
    DEAD_LETTERS.labels(service)
    EVENTS_OUT.labels(service)
    OUTBOX_BACKLOG.labels(service)
