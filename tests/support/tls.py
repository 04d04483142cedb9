"""A TLS front door for the tests of TLS settings: a terminator on loopback that takes only mutual
TLS (a client certificate signed by the test CA) and passes the bytes on to a plaintext server (the
Tansu broker, the Temporal dev server), noting which client certificate each connection showed."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.support.forwarding import pipe


def certificates(folder: Path, client: str) -> tuple[trustme.CA, dict[str, Path]]:
    """A new CA, and the files a cluster's operator hands out: the CA, a client certificate, its key."""
    ca = trustme.CA()
    issued = ca.issue_cert(client)
    files = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(str(files["ca"]))
    issued.cert_chain_pems[0].write_to_path(str(files["cert"]))
    issued.private_key_pem.write_to_path(str(files["key"]))
    return ca, files


@dataclass
class TlsFrontDoor:
    """The TLS port of a server; `clients` are the names on the client certificates it was shown."""

    port: int
    clients: list[str]


@asynccontextmanager
async def tls_front_door(ca: trustme.CA, server_port: int, port: int) -> AsyncIterator[TlsFrontDoor]:
    """Mutual TLS on 127.0.0.1:`port` (a certificate of `ca` for 127.0.0.1) to 127.0.0.1:`server_port`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])  # gRPC (Temporal) speaks HTTP/2; Kafka ignores it
    door = TlsFrontDoor(port, [])

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        names = writer.get_extra_info("peercert").get("subjectAltName", ())
        door.clients.append(",".join(value for _, value in names))
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", server_port)
        await asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", port, ssl=context)
    try:
        yield door
    finally:
        server.close()


