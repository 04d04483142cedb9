"""`edih up` stops cleanly however it ends, on the real platform in a subprocess: after a kill -9 of
`edih up`, `edih down` stops every child it left running and frees their ports (and the services'
logs are JSON lines throughout); a new `edih up`
stops its own leftovers, says so and comes up; closing the terminal (SIGHUP) stops the platform;
ports taken by another program are refused, naming the port."""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edih.infra import port_open
from edih.stack import SERVICES
from tests.support.running_stack import RunningStack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[RunningStack]:
    running = RunningStack(tmp_path / "edih")
    try:
        yield running
    finally:
        running.stop()


# What `edih up` starts: the broker, Temporal, the mail catcher and every service.
COMPONENTS = 3 + len(SERVICES)


def open_ports(stack: RunningStack) -> list[int]:
    return [port for port in stack.ports.values() if port_open(port)]


def kill_edih_up(stack: RunningStack) -> list[int]:
    """SIGKILL `edih up` (no chance to stop anything); the pids of the children it leaves."""
    assert stack.process is not None
    run = stack.recorded()
    assert run is not None and run.supervisor.pid == stack.process.pid
    children = [child.pid for child in run.children]
    assert len(children) == COMPONENTS
    stack.process.send_signal(signal.SIGKILL)
    stack.process.wait(10)
    stack.process = None
    return children


def test_edih_down_stops_what_a_killed_edih_up_left_running(stack: RunningStack):
    stack.up()
    kill_edih_up(stack)
    run = stack.recorded()
    assert run is not None and len(run.running_children()) == COMPONENTS  # orphans, still serving
    assert open_ports(stack) != []

    result = stack.edih("down")
    assert result.returncode == 0, result.stderr
    assert "ended without stopping" in result.stdout and "The platform stopped." in result.stdout
    assert not any(child.running() for child in run.children)
    assert open_ports(stack) == []
    assert stack.recorded() is None
    assert stack.edih("down").stdout == "The platform is not running.\n"
    # What the services logged meanwhile: one JSON object a line, naming the service.
    for service in ("intake", "notifications", "journey", "console"):
        lines = (stack.data_dir / "logs" / f"{service}.log").read_text().splitlines()
        assert lines and {json.loads(line)["service"] for line in lines} == {service}


def test_a_new_edih_up_stops_its_leftovers_and_closing_the_terminal_stops_it(stack: RunningStack):
    stack.up()
    leftovers = kill_edih_up(stack)

    stack.up()
    said = "".join(stack.output)
    assert "The last `edih up` (pid " in said and "ended without stopping" in said
    run = stack.recorded()
    assert run is not None and not set(leftovers) & {child.pid for child in run.children}

    assert stack.process is not None
    stack.process.send_signal(signal.SIGHUP)  # what closing the terminal sends
    stack.wait_for("stopped; data kept in", timeout=180)
    assert stack.process.wait(30) == 0
    stack.process = None
    assert not any(child.running() for child in run.children)
    assert open_ports(stack) == []
    assert stack.recorded() is None


def test_ports_taken_by_another_program_are_refused_naming_the_port(stack: RunningStack):
    with socket.socket() as other:
        other.bind(("127.0.0.1", stack.ports["intake"]))
        other.listen()
        result = stack.edih("up")
    assert result.returncode == 1
    assert f"Ports already in use by other programs: {stack.ports['intake']} (intake)." in result.stderr
    assert "starting" not in result.stdout
    assert stack.recorded() is None
