"""A plain TCP port forwarded to a server, which a test can cut (every connection closed, nothing
accepted) and restore: a dependency that goes away under a running service and comes back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy `reader` to `writer` until either side closes (TLS errors are OSErrors too)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


class Forwarder:
    """127.0.0.1:`port` forwarded to 127.0.0.1:`server_port` while not cut."""

    def __init__(self, port: int, server_port: int) -> None:
        self.port = port
        self.server_port = server_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.server_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, server_writer))
        with suppress(OSError):
            await asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer))
        self._writers.difference_update((writer, server_writer))


@asynccontextmanager
async def forwarded(port: int, server_port: int) -> AsyncIterator[Forwarder]:
    forwarder = Forwarder(port, server_port)
    await forwarder.restore()
    try:
        yield forwarder
    finally:
        await forwarder.cut()
