"""Polling helpers: wait for a condition that another process or task makes true."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], timeout: float = 20.0, interval: float = 0.1,
    message: str = "condition",
) -> T:
    """The first truthy result of `probe`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{message} not reached within {timeout}s (last value: {last!r})")


def until(probe: Callable[[], T], timeout: float = 60.0, interval: float = 0.1,
          message: str = "condition") -> T:
    """`eventually` for code without an event loop (tests that drive processes): the first truthy
    result of `probe`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} not reached within {timeout}s (last value: {last!r})")
