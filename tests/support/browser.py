"""What the browser tests share: Debian's Chromium for Playwright (never `playwright install`,
which downloads a browser), and an ASGI app served by uvicorn on a free loopback port, so the
browser can reach it."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from edih.infra import free_port
from tests.support.waiting import eventually

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_or_skip() -> str:
    """The path of Chromium; without it the test is skipped, except in CI where it must run."""
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); browser test skipped")
    return chromium


@asynccontextmanager
async def served(app: FastAPI, name: str) -> AsyncIterator[str]:
    """`app` served by uvicorn on a free loopback port, in this event loop: its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    # A whole service starts here (database, topics, broker): give a loaded machine time.
    await eventually(lambda: _started(server, task), timeout=60, message=f"{name} listening")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # surfaces the error of a server that failed to start
    return server.started
