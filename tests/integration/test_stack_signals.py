"""How `edih up` reacts to the signals that stop it, on real processes and real signals: a Ctrl-C
during start-up ends the start at once (not when the component is ready, or never), SIGHUP (the
terminal closed) stops the platform like SIGTERM, and `edih down` waits for a slow stop, saying what
it still waits for. `edih up` runs in a subprocess of its own with small programs as components
instead of the platform's (the e2e tests run the real one), so the moments to signal at are known."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edih.infra import free_port, port_open
from edih.runfile import Run, RunFile
from edih.settings import PlatformSettings
from edih.stack import Stack
from tests.support.waiting import until

# A program that listens on its port; on SIGTERM it takes `delay` seconds to stop.
LISTENER = """
import signal, socket, sys, time
port, delay = int(sys.argv[1]), float(sys.argv[2])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen()
def stop(*_):
    time.sleep(delay)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(1)
"""
NEVER_LISTENING = "import time; time.sleep(600)"

# `edih up` with the components given as JSON [[name, command, port], ...].
SUPERVISOR = """
import json, sys
from pathlib import Path
from edih.settings import PlatformSettings
from edih.stack import Component, Stack
stack = Stack(PlatformSettings(data_dir=Path(sys.argv[1])))
stack.components = [Component(name, command, port) for name, command, port in json.loads(sys.argv[2])]
sys.exit(stack.up())
"""


@dataclass
class Part:
    name: str
    port: int
    command: list[str]


def listener(name: str, stop_delay: float = 0.0) -> Part:
    port = free_port()
    return Part(name, port, [sys.executable, "-c", LISTENER, str(port), str(stop_delay)])


def never_listening(name: str) -> Part:
    return Part(name, free_port(), [sys.executable, "-c", NEVER_LISTENING])


@dataclass
class Supervisor:
    """`edih up` in a subprocess, its output in a file."""

    data_dir: Path
    process: subprocess.Popen[bytes]
    output: Path

    @property
    def run_file(self) -> RunFile:
        return RunFile(self.data_dir / "run" / "edih.pid")

    def recorded(self) -> Run | None:
        return self.run_file.read()

    def children(self) -> list[str]:
        run = self.recorded()
        return [child.name for child in run.children] if run else []

    def said(self) -> str:
        return self.output.read_text()


@pytest.fixture
def supervise(tmp_path: Path) -> Iterator[Callable[..., Supervisor]]:
    started: list[Supervisor] = []

    def start(*parts: Part) -> Supervisor:
        data_dir = tmp_path / "edih"
        output = tmp_path / "edih-up.out"
        spec = json.dumps([[p.name, p.command, p.port] for p in parts])
        with open(output, "wb") as out:
            process = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(data_dir), spec],
                                       stdout=out, stderr=subprocess.STDOUT)
        started.append(Supervisor(data_dir, process, output))
        return started[-1]

    yield start
    for supervisor in started:  # whatever a failed test left
        if supervisor.process.poll() is None:
            supervisor.process.kill()
            supervisor.process.wait()
        Stack(PlatformSettings(data_dir=supervisor.data_dir)).down()


def test_ctrl_c_during_start_up_stops_at_once(supervise: Callable[..., Supervisor]):
    first, stuck, after = listener("first"), never_listening("stuck"), listener("after")
    up = supervise(first, stuck, after)
    # Interrupt while `stuck` is waited for: it never listens, and the wait for it lasts 60 s.
    until(lambda: up.children() == ["first", "stuck"])
    run = up.recorded()
    assert run is not None
    up.process.send_signal(signal.SIGINT)

    # Without an interruptible start the wait would time out and `edih up` exit with 1.
    assert up.process.wait(50) == 130
    said = up.said()
    assert "[2/3] starting stuck ..." in said and "[3/3]" not in said
    assert not any(child.running() for child in run.children)
    assert not port_open(first.port) and up.recorded() is None


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_hangup_and_terminate_stop_a_running_platform(supervise: Callable[..., Supervisor],
                                                      signum: signal.Signals):
    one, two = listener("one"), listener("two")
    up = supervise(one, two)
    until(lambda: "The EDIH platform is running" in up.said())
    run = up.recorded()
    assert run is not None
    up.process.send_signal(signum)

    assert up.process.wait(60) == 0
    said = up.said()
    assert said.index("stopping two ...") < said.index("stopping one ...")  # reverse start order
    assert not any(child.running() for child in run.children)
    assert not port_open(one.port) and not port_open(two.port)
    assert up.recorded() is None


def test_edih_down_waits_for_a_slow_stop_and_says_what_it_waits_for(
    supervise: Callable[..., Supervisor], capsys: pytest.CaptureFixture[str]
):
    slow = listener("slow", stop_delay=6)
    up = supervise(slow)
    until(lambda: "The EDIH platform is running" in up.said())

    assert Stack(PlatformSettings(data_dir=up.data_dir)).down() == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("Stopping the platform (edih up, pid ")
    assert any(line.startswith("  still stopping: slow (") for line in said)
    assert said[-1] == "The platform stopped."
    assert up.process.poll() == 0  # `edih up` had stopped when `edih down` said so
    assert "  stopping slow ..." in up.said() and not port_open(slow.port)
