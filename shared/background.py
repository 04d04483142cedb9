"""A background loop that a service can wake: the outbox relay and senders run in one.

`WakeableLoop` runs a step again and again in its own task: at once when woken (something was just
committed), otherwise every `interval` seconds. A failing step is logged and retried after a pause;
stopping cancels the task and waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class WakeableLoop:
    def __init__(
        self, name: str, step: Callable[[], Awaitable[object]], interval: float, error_pause: float = 1.0
    ) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.error_pause = error_pause
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Run the step soon, without waiting out the interval."""
        self._woken.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again", self.name)
                await asyncio.sleep(self.error_pause)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that arrives
            # as the event is set (a wake right before stop), and stop() would then wait for ever.
            try:
                async with asyncio.timeout(self.interval):
                    await self._woken.wait()
            except TimeoutError:
                pass
            self._woken.clear()
