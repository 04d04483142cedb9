"""An ASGI app served by uvicorn on a loopback port, in the test's own event loop: real HTTP for a
browser, a CLI or a service that calls it (with the app's lifespan, if it has one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp

from edih.infra import free_port
from tests.support.waiting import eventually


@asynccontextmanager
async def served(app: ASGIApp, name: str = "server", port: int | None = None) -> AsyncIterator[str]:
    """`app` listening on `port` (a free one by default) while the block runs: its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    task = asyncio.create_task(server.serve())

    async def listening() -> bool:
        if task.done():
            task.result()  # surfaces the error of a server that failed to start
            raise AssertionError(f"{name} stopped before it listened (see its lifespan's log)")
        return server.started

    # A whole service starts here (database, topics, broker): give a loaded machine time.
    await eventually(listening, timeout=60, interval=0.02, message=f"{name} listening")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)
