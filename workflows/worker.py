"""Temporal plumbing of the journey service: the client connection and the worker.

Client and worker share the pydantic data converter, so the workflow's pydantic models (and the
datetimes inside them) cross the boundary as they are.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from shared.service import ServiceContext
from shared.settings import Settings
from workflows.activities import JourneyActivities
from workflows.journey import CompanyJourney

# Client, worker, replayer and tests must all use this one converter.
DATA_CONVERTER = pydantic_data_converter

log = logging.getLogger(__name__)


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
                self._client = await Client.connect(
                    self.settings.temporal_address,
                    namespace=self.settings.temporal_namespace,
                    data_converter=DATA_CONVERTER,
                )
            return self._client


def build_worker(client: Client, task_queue: str, activities: JourneyActivities) -> Worker:
    """The worker that runs the journey workflows and their activities on `task_queue`."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CompanyJourney],
        activities=[activities.request_notification, activities.publish_stage_change],
    )


class WorkerRunner:
    """Runs the worker beside the app: the app's start and stop hooks."""

    def __init__(self, temporal: TemporalConnection) -> None:
        self.temporal = temporal
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, ctx: ServiceContext) -> None:
        client = await self.temporal.client()
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
