"""The Temporal connection settings on a real Temporal server behind a TLS-only front door: with TLS,
the CA file and a client certificate the journey service's connection reaches it and reports it
ready, showing its certificate; without TLS the same address is not reachable."""

from __future__ import annotations

from pathlib import Path

from edih.infra import free_port
from shared.settings import Settings
from tests.support.tls import certificates, tls_front_door
from workflows.worker import TemporalConnection, connect_temporal


async def test_temporal_over_mutual_tls_from_the_settings(temporal_address: str, tmp_path: Path):
    ca, files = certificates(tmp_path, "edih-journey")
    front = free_port()
    secure = Settings(
        data_dir=tmp_path, temporal_address=f"127.0.0.1:{front}", temporal_tls=True,
        temporal_tls_ca_file=files["ca"], temporal_tls_cert_file=files["cert"],
        temporal_tls_key_file=files["key"],
    )
    async with tls_front_door(ca, int(temporal_address.rsplit(":", 1)[1]), front) as door:
        assert await TemporalConnection(secure).reachable(timeout=10) is True
        client = await connect_temporal(secure)
        assert [w async for w in client.list_workflows("WorkflowType = 'NoSuchWorkflow'")] == []
        plain = secure.model_copy(update={"temporal_tls": False, "temporal_tls_ca_file": None,
                                          "temporal_tls_cert_file": None, "temporal_tls_key_file": None})
        assert await TemporalConnection(plain).reachable(timeout=2) is False
    assert door.clients and set(door.clients) == {"edih-journey"}
