"""Temporal plumbing of the journey service: the client connection and the worker.

Client and worker share the pydantic data converter, so the workflow's pydantic models (and the
datetimes inside them) cross the boundary as they are. The connection's TLS, client certificate and
API key come from the settings (`temporal_connect_options`), the same for the worker, the bridge and
`edih journeys list`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode, TLSConfig
from temporalio.worker import Worker

from shared.service import ServiceContext
from shared.settings import Settings
from workflows.activities import JourneyActivities
from workflows.effects import SEARCH_ATTRIBUTE_KEYS
from workflows.journey import CompanyJourney

# Client, worker, replayer and tests must all use this one converter.
DATA_CONVERTER = pydantic_data_converter

log = logging.getLogger(__name__)


def temporal_connect_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of `Client.connect` for `settings`: namespace, TLS and API key."""
    tls: TLSConfig | bool = False
    if settings.temporal_tls:
        tls = TLSConfig(
            server_root_ca_cert=_read(settings.temporal_tls_ca_file),
            client_cert=_read(settings.temporal_tls_cert_file),
            client_private_key=_read(settings.temporal_tls_key_file),
        )
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return {"namespace": settings.temporal_namespace, "tls": tls, "api_key": api_key}


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


async def connect_temporal(settings: Settings, **options: Any) -> Client:
    """A client of the deployment's Temporal cluster; `options` go to `Client.connect` as well."""
    return await Client.connect(
        settings.temporal_address, **temporal_connect_options(settings), **options
    )


class TemporalConnection:
    """One Temporal client per service, connected on first use.

    The bridge's consumer starts before the app's start hook runs, so whoever needs the client
    first connects it; a failed connection is tried again on the next use.
    """

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        async with self._lock:
            if self._client is None:
                self._client = await connect_temporal(self.settings, data_converter=DATA_CONVERTER)
            return self._client

    async def reachable(self, timeout: float = 2.0) -> bool:
        """Whether the Temporal frontend answers its health check (the journey's readiness)."""
        try:
            async with asyncio.timeout(timeout):
                client = await self.client()
                return await client.service_client.check_health(timeout=timedelta(seconds=timeout))
        except Exception:
            log.debug("Temporal is not reachable", exc_info=True)
            return False


async def ensure_search_attributes(client: Client) -> None:
    """Register the journey's search attributes on `client`'s namespace where they are missing."""
    kinds = {"KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
             "BOOL": IndexedValueType.INDEXED_VALUE_TYPE_BOOL}
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        known = set(listed.custom_attributes)
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server lists none
            raise
        known = set()
    missing = {
        key.name: kinds[key.indexed_value_type.name]
        for key in SEARCH_ATTRIBUTE_KEYS
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )


def build_worker(client: Client, task_queue: str, activities: JourneyActivities) -> Worker:
    """The worker that runs the journey workflows and their activities on `task_queue`."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CompanyJourney],
        activities=activities.all(),
    )


class WorkerRunner:
    """Runs the worker beside the app: the app's start and stop hooks."""

    def __init__(self, temporal: TemporalConnection) -> None:
        self.temporal = temporal
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, ctx: ServiceContext) -> None:
        client = await self.temporal.client()
        try:
            await ensure_search_attributes(client)
        except Exception:
            # A cluster may allow only its operators to add them: the listing then says what is missing.
            log.warning("could not register the journey's search attributes", exc_info=True)
        self._worker = build_worker(client, ctx.settings.temporal_task_queue, JourneyActivities(ctx))
        self._task = asyncio.create_task(self._worker.run(), name="journey-worker")
        # A dead worker leaves the bridge signalling journeys nobody runs: say so loudly.
        self._task.add_done_callback(_report_failure)

    async def stop(self, ctx: ServiceContext) -> None:
        if self._worker is None or self._task is None:
            return
        if not self._task.done():
            await self._worker.shutdown()
        await asyncio.gather(self._task, return_exceptions=True)
        self._worker = self._task = None


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("the journey worker stopped", exc_info=task.exception())
