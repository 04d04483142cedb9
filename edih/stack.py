"""`edih up`: the whole platform on embedded infrastructure, supervised in one foreground process.

Starts the Tansu broker, the Temporal dev server (SQLite under `.edih/`), the mail catcher, then the
services and the journey worker, each as a child process logging to `.edih/logs/`. Waits until each
answers, prints the URLs, and stops everything in reverse order on Ctrl-C, SIGTERM, SIGHUP (the
terminal closed) or `edih down`; a stop requested during start-up ends the start at once. Every
child is recorded in the pid file (`edih/runfile.py`), so `edih down` and the next `edih up` stop
what an `edih up` that was killed left running. All data lives under `.edih/`, so the next
`edih up` keeps every accepted fact.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from edih.infra import (
    Interrupted,
    port_open,
    start_process,
    stop_group,
    stop_process,
    tansu_command,
    temporal_command,
    wait_for_port,
)
from edih.runfile import RecordedProcess, Run, RunFile
from edih.settings import PlatformSettings

# The services of the platform in start order, with their module and the setting of their URL.
SERVICES = ("intake", "training", "notifications", "journey", "console")
MODULES = {"journey": "workflows"}
# How long a child gets to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 15.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How often `edih down` says what it is still waiting for.
PROGRESS_EVERY = 5.0


@dataclass
class Component:
    name: str
    command: list[str]
    port: int
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def start_line(index: int, total: int, name: str) -> str:
    return f"[{index}/{total}] starting {name} ..."


def say(*lines: str, error: bool = False) -> None:
    """Print, and go on when the terminal is gone (SIGHUP): the stop must still finish."""
    try:
        print(*lines, sep="\n", file=sys.stderr if error else sys.stdout, flush=True)
    except OSError:
        pass


class Stack:
    """The components of the local platform, their processes and their pid file."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        # The one Maildir of the catcher and the console's Mail page (EDIH_MAIL_CATCHER_DIR).
        self.mail_dir = settings.mail_dir.resolve()
        self.logs = self.data_dir / "logs"
        self.pid_file = self.data_dir / "run" / "edih.pid"
        self.run_file = RunFile(self.pid_file)
        self.components = self._components()
        self._stop_requested = False
        self._run: Run | None = None

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

    def running(self) -> Run | None:
        """The run of a live `edih up` for this data directory, if any."""
        run = self.run_file.read()
        return run if run is not None and run.supervisor.running() else None

    def up(self) -> int:
        if run := self.running():
            say(f"The platform is already running (pid {run.supervisor.pid}); `edih down` stops it.",
                error=True)
            return 1
        self._stop_leftovers()
        busy = [f"{c.port} ({c.name})" for c in self.components if port_open(c.port)]
        if busy:
            say(f"Ports already in use by other programs: {', '.join(busy)}. Stop what uses them, or "
                "set other ports (EDIH_KAFKA_BOOTSTRAP_SERVERS, EDIH_TEMPORAL_ADDRESS, "
                "EDIH_TEMPORAL_UI_PORT, EDIH_SMTP_PORT, EDIH_<SERVICE>_URL).", error=True)
            return 1
        self._run = Run(RecordedProcess.of("edih up", os.getpid()))
        self.run_file.write(self._run)
        previous = {signum: signal.signal(signum, self._request_stop) for signum in STOP_SIGNALS}
        try:
            total = len(self.components)
            for index, component in enumerate(self.components, 1):
                if self._stop_requested:
                    return 130
                say(start_line(index, total, component.name))
                self._start(component)
            say(*self.welcome_lines())
            while not self._stop_requested:
                for component in self.components:
                    if component.process and component.process.poll() is not None:
                        say(f"{component.name} exited with {component.process.returncode}; "
                            f"see {self.logs / (component.name + '.log')}. Stopping.", error=True)
                        return 1
                time.sleep(0.2)
            return 0
        except Interrupted:
            return 130
        except Exception as error:
            say(f"edih up failed: {error}", error=True)
            return 1
        finally:
            self._stop_requested = True  # a second Ctrl-C must not cut the stop short
            say("stopping ...")
            self._stop_children()
            self.run_file.remove()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            say(f"stopped; data kept in {self.shown_data_dir}")

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop_requested = True

    def _start(self, component: Component) -> None:
        component.process = start_process(
            component.command, self.logs / f"{component.name}.log", env=self.child_environment()
        )
        assert self._run is not None
        self._run.children.append(RecordedProcess.of(component.name, component.process.pid))
        self.run_file.write(self._run)
        wait_for_port(component.port, timeout=60, process=component.process,
                      stop_requested=lambda: self._stop_requested)
        if component.ready_url:
            self._wait_ready(component)

    def _wait_ready(self, component: Component, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if component.process and component.process.poll() is not None:
                raise RuntimeError(f"{component.name} exited; see {self.logs / component.name}.log")
            if self._stop_requested:
                raise Interrupted
            try:
                if httpx.get(component.ready_url or "", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{component.name} not ready after {timeout:.0f}s")

    def _stop_children(self) -> None:
        """Stop the started components in reverse order, keeping the pid file current."""
        for component in reversed(self.components):
            if component.process is None:
                continue
            if component.process.poll() is None:
                say(f"  stopping {component.name} ...")
            stop_process(component.process, timeout=STOP_TIMEOUT)
            if self._run is not None:
                self._run.children = [c for c in self._run.children if c.pid != component.process.pid]
                self.run_file.write(self._run)

    def _stop_leftovers(self) -> None:
        """Stop what an `edih up` that did not stop (killed, crashed) left running."""
        run = self.run_file.read()
        if run is None:
            return
        if leftovers := run.running_children():
            say(f"The last `edih up` (pid {run.supervisor.pid}) ended without stopping "
                f"{', '.join(f'{c.name} (pid {c.pid})' for c in leftovers)}; stopping them ...")
            for child in reversed(leftovers):
                say(f"  stopping {child.name} ...")
                stop_group(child.pid, child.started_at, timeout=STOP_TIMEOUT)
            say("  stopped.")
        self.run_file.remove()

    def welcome_lines(self) -> list[str]:
        """What `edih up` prints once everything is ready (the README shows it)."""
        s = self.settings
        return [
            "",
            f"The EDIH platform is running (hub {s.hub_id}). Ctrl-C or `edih down` stops it.",
            f"  Console        {s.url_of('console')}   (sign in as {s.console_admin_email})",
            f"  Intake API     {s.url_of('intake')}/docs",
            f"  Training API   {s.url_of('training')}/docs",
            f"  Notifications  {s.url_of('notifications')}/docs",
            f"  Journey        {s.url_of('journey')}/docs",
            f"  Temporal UI    http://127.0.0.1:{s.temporal_ui_port}",
            f"  Kafka          {s.kafka_bootstrap_servers}",
            f"  Mail catcher   smtp://127.0.0.1:{s.smtp_port} (messages on the console's Mail page)",
            f"  Logs and data  {self.shown_data_dir}",
            "A bearer token for the API: .venv/bin/edih token --role admin",
        ]

    @property
    def shown_data_dir(self) -> str:
        """The data directory as the user would type it: relative when it is below this folder."""
        try:
            return str(self.data_dir.relative_to(Path.cwd()))
        except ValueError:
            return str(self.data_dir)

    def down(self) -> int:
        """Stop the platform: ask its `edih up` to stop and wait as long as that takes, reporting
        what is still running; stop directly what an `edih up` that is gone left behind."""
        run = self.run_file.read()
        if run is None:
            say("The platform is not running.")
            return 0
        if run.supervisor.running():
            say(f"Stopping the platform (edih up, pid {run.supervisor.pid}) ...")
            os.kill(run.supervisor.pid, signal.SIGTERM)
            self._wait_for_supervisor(run)
        self._stop_leftovers()
        say("The platform stopped.")
        return 0

    def _wait_for_supervisor(self, run: Run) -> None:
        # `edih up` stops each child within STOP_TIMEOUT (then kills it); past that it is stuck.
        patience = (len(self.components) + 1) * (STOP_TIMEOUT + 5)
        started = last_report = time.monotonic()
        while run.supervisor.running():
            time.sleep(0.2)
            now = time.monotonic()
            if now - started > patience:
                say(f"edih up (pid {run.supervisor.pid}) does not finish stopping; stopping what it "
                    "runs directly.", error=True)
                os.kill(run.supervisor.pid, signal.SIGKILL)
                return
            if now - last_report >= PROGRESS_EVERY:
                last_report = now
                current = self.run_file.read()
                still = [c.name for c in current.running_children()] if current else []
                say(f"  still stopping: {', '.join(still) or 'edih up itself'} "
                    f"({now - started:.0f}s)")

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


