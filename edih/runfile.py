"""The pid file of `edih up` (`<data dir>/run/edih.pid`): the supervising `edih up` and every child
it started, each with its process group and start time.

`edih up` writes it before it starts anything and again after each child starts, so that when it is
killed (kill -9, a crash) `edih down` or the next `edih up` still finds every process it left
running, and stops exactly those: a pid together with its start time names one process, never a
stranger that got the pid later.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edih.infra import process_running, process_started_at


@dataclass(frozen=True)
class RecordedProcess:
    """One process of the platform; `pid` leads its own process group (`start_new_session`)."""

    name: str
    pid: int
    started_at: str | None

    @classmethod
    def of(cls, name: str, pid: int) -> RecordedProcess:
        return cls(name, pid, process_started_at(pid))

    def running(self) -> bool:
        return process_running(self.pid, self.started_at)


@dataclass
class Run:
    """What one `edih up` runs: itself and its children, in start order."""

    supervisor: RecordedProcess
    children: list[RecordedProcess] = field(default_factory=list)

    def running_children(self) -> list[RecordedProcess]:
        return [child for child in self.children if child.running()]


class RunFile:
    """Reads and writes the pid file; each write replaces the whole file at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Run | None:
        try:
            data = json.loads(self.path.read_text())
            return Run(RecordedProcess(**data["supervisor"]),
                       [RecordedProcess(**child) for child in data["children"]])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            # Not ours, or an older `edih up`'s plain pid: all that is left to use is that pid.
            try:
                pid = int(self.path.read_text().strip())
            except (OSError, ValueError):
                return None
            return Run(RecordedProcess("edih up", pid, process_started_at(pid)))

    def write(self, run: Run) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        draft = self.path.with_suffix(".tmp")
        draft.write_text(json.dumps(asdict(run), indent=2) + "\n")
        os.replace(draft, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
