"""`edih up`: the whole platform on embedded infrastructure, supervised in one foreground process.

Starts the Tansu broker, the Temporal dev server (SQLite under `.edih/`), the mail catcher, then the
services and the journey worker, each as a child process logging to `.edih/logs/`. Waits until each
answers, prints the URLs, and stops everything in reverse order on Ctrl-C, SIGTERM or `edih down`.
All data lives under `.edih/`, so the next `edih up` keeps every accepted fact.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from edih.infra import (
    port_open,
    start_process,
    stop_process,
    tansu_command,
    temporal_command,
    wait_for_port,
)
from shared.settings import Settings

# The services of the platform in start order, with their module and the setting of their URL.
SERVICES = ("intake", "notifications", "journey", "console")
MODULES = {"journey": "workflows"}


@dataclass
class Component:
    name: str
    command: list[str]
    port: int
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


class Stack:
    """The components of the local platform, their processes and their pid file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        # The one Maildir of the catcher and the console's Mail page (EDIH_MAIL_CATCHER_DIR).
        self.mail_dir = settings.mail_dir.resolve()
        self.logs = self.data_dir / "logs"
        self.pid_file = self.data_dir / "run" / "edih.pid"
        self.components = self._components()

    def _components(self) -> list[Component]:
        s = self.settings
        infra = [
            Component("broker", tansu_command(_port(s.kafka_bootstrap_servers)),
                      _port(s.kafka_bootstrap_servers)),
            Component("temporal", temporal_command(_port(s.temporal_address), s.temporal_ui_port,
                                                   self.data_dir / "temporal.db"),
                      _port(s.temporal_address)),
            Component("mail", [sys.executable, "-m", "edih.mailcatcher", "--port", str(s.smtp_port),
                               "--maildir", str(self.mail_dir)], s.smtp_port),
        ]
        services = [
            Component(name, [sys.executable, "-m", MODULES.get(name, f"services.{name}")],
                      s.port_of(name), ready_url=f"{s.url_of(name)}/readyz")
            for name in SERVICES
        ]
        return infra + services

    def child_environment(self) -> dict[str, str]:
        # Absolute, so every child reads the same directories whatever its working directory.
        env = {"EDIH_DATA_DIR": str(self.data_dir), "EDIH_MAIL_CATCHER_DIR": str(self.mail_dir),
               "PYTHONUNBUFFERED": "1"}
        # A local stack sends at once (no business hours) and starts consumers quickly; both can
        # still be set by the caller.
        env["EDIH_BUSINESS_HOURS_ENABLED"] = os.environ.get("EDIH_BUSINESS_HOURS_ENABLED", "false")
        env["EDIH_KAFKA_SESSION_TIMEOUT_MS"] = os.environ.get("EDIH_KAFKA_SESSION_TIMEOUT_MS", "3000")
        return env

    def running_pid(self) -> int | None:
        """The pid of a running `edih up` for this data directory, if any."""
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None

    def up(self) -> int:
        if pid := self.running_pid():
            print(f"The platform is already running (pid {pid}); `edih down` stops it.", file=sys.stderr)
            return 1
        busy = [f"{c.name} ({c.port})" for c in self.components if port_open(c.port)]
        if busy:
            print(f"Ports already in use: {', '.join(busy)}. Stop what uses them, or set other "
                  "ports (EDIH_KAFKA_BOOTSTRAP_SERVERS, EDIH_TEMPORAL_ADDRESS, EDIH_SMTP_PORT, "
                  "EDIH_<SERVICE>_URL).", file=sys.stderr)
            return 1
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(str(os.getpid()))
        stopping = False

        def request_stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            total = len(self.components)
            for index, component in enumerate(self.components, 1):
                if stopping:
                    return 130
                print(f"[{index}/{total}] starting {component.name} ...", flush=True)
                self._start(component)
            self._print_welcome()
            while not stopping:
                for component in self.components:
                    if component.process and component.process.poll() is not None:
                        print(f"{component.name} exited with {component.process.returncode}; "
                              f"see {self.logs / (component.name + '.log')}. Stopping.",
                              file=sys.stderr, flush=True)
                        return 1
                time.sleep(0.5)
            return 0
        except Exception as error:
            print(f"edih up failed: {error}", file=sys.stderr, flush=True)
            return 1
        finally:
            print("stopping ...", flush=True)
            for component in reversed(self.components):
                if component.process is not None:
                    stop_process(component.process, timeout=15)
            self.pid_file.unlink(missing_ok=True)
            print("stopped; data kept in", self.data_dir, flush=True)

    def _start(self, component: Component) -> None:
        component.process = start_process(
            component.command, self.logs / f"{component.name}.log", env=self.child_environment()
        )
        wait_for_port(component.port, timeout=60, process=component.process)
        if component.ready_url:
            self._wait_ready(component)

    def _wait_ready(self, component: Component, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if component.process and component.process.poll() is not None:
                raise RuntimeError(f"{component.name} exited; see {self.logs / component.name}.log")
            try:
                if httpx.get(component.ready_url or "", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{component.name} not ready after {timeout:.0f}s")

    def _print_welcome(self) -> None:
        s = self.settings
        lines = [
            f"\nThe EDIH platform is running (hub {s.hub_id}). Ctrl-C or `edih down` stops it.",
            f"  Console        {s.console_url}   (sign in as {s.console_admin_email})",
            f"  Intake API     {s.intake_url}/docs",
            f"  Notifications  {s.notifications_url}/docs",
            f"  Journey        {s.journey_url}/docs",
            f"  Temporal UI    http://127.0.0.1:{s.temporal_ui_port}",
            f"  Kafka          {s.kafka_bootstrap_servers}",
            f"  Mail catcher   smtp://127.0.0.1:{s.smtp_port} (messages on the console's Mail page)",
            f"  Logs and data  {self.data_dir}",
            "A bearer token for the API: .venv/bin/edih token --role admin",
        ]
        print("\n".join(lines), flush=True)

    def down(self, timeout: float = 60) -> int:
        pid = self.running_pid()
        if pid is None:
            print("The platform is not running.")
            return 0
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running_pid() is None:
                print("The platform stopped.")
                return 0
            time.sleep(0.3)
        print(f"edih up (pid {pid}) did not stop within {timeout:.0f}s", file=sys.stderr)
        return 1

    def status(self) -> int:
        rows = asyncio.run(self._probe_all())
        width = max(len(c.name) for c in self.components)
        for component, state in rows:
            print(f"{component.name:<{width}}  {component.port:>5}  {state}")
        return 0 if all(state in ("up", "ready") for _, state in rows) else 3

    async def _probe_all(self) -> list[tuple[Component, str]]:
        async with httpx.AsyncClient(timeout=2) as client:
            async def probe(c: Component) -> tuple[Component, str]:
                if not port_open(c.port):
                    return c, "down"
                if not c.ready_url:
                    return c, "up"
                try:
                    response = await client.get(c.ready_url)
                except httpx.HTTPError as error:
                    return c, f"not ready ({error})"
                return c, "ready" if response.status_code == 200 else f"not ready ({response.text})"

            return list(await asyncio.gather(*(probe(c) for c in self.components)))


