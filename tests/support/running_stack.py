"""`edih up` in a subprocess, on free ports and its own data directory, as the e2e tests drive it.

Its output is read by a thread, so a start-up that goes silent fails the test at its deadline
instead of stalling the suite.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from edih.infra import free_port
from edih.runfile import Run, RunFile
from edih.settings import PlatformSettings

COMPONENT_PORTS = ("kafka", "temporal", "ui", "smtp", "console", "intake", "notifications", "journey")


class RunningStack:
    """`edih up` in a subprocess, on free ports and its own data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in COMPONENT_PORTS}
        self.env = {
            **os.environ,
            "EDIH_DATA_DIR": str(data_dir),
            "EDIH_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.ports['kafka']}",
            "EDIH_TEMPORAL_ADDRESS": f"127.0.0.1:{self.ports['temporal']}",
            "EDIH_TEMPORAL_UI_PORT": str(self.ports["ui"]),
            "EDIH_SMTP_PORT": str(self.ports["smtp"]),
            "EDIH_KAFKA_SESSION_TIMEOUT_MS": "1000",
        }
        urls = {name: f"http://127.0.0.1:{self.ports[name]}"
                for name in ("console", "intake", "notifications", "journey")}
        self.env["EDIH_SERVICE_URLS"] = json.dumps(urls)
        self.env.pop("EDIH_DATABASE_URL", None)
        self.settings = PlatformSettings(service_urls=urls, **{
            k[5:].lower(): v for k, v in self.env.items()
            if k.startswith("EDIH_") and not k.startswith(("EDIH_TEST", "EDIH_SERVICE_URLS"))})
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    def edih(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edih.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=300)

    def start(self) -> None:
        """`edih up` in the background; `wait_for` reads what it prints."""
        self.output = []
        self._lines = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edih.cli", "up"], env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._read, args=(self.process, self._lines), daemon=True).start()

    @staticmethod
    def _read(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)  # the end of its output: it exited

    def wait_for(self, text: str, timeout: float = 180) -> None:
        """Until `edih up` prints a line containing `text`; fails at the deadline or when it exits."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"edih up exited before printing {text!r}:\n" + self.report())
            self.output.append(line)
            if text in line:
                return
        raise AssertionError(f"edih up did not print {text!r} within {timeout:.0f}s:\n" + self.report())

    def up(self, timeout: float = 180) -> None:
        self.start()
        self.wait_for("The EDIH platform is running", timeout)

    def down(self) -> None:
        if self.process is None:
            return
        result = self.edih("down")
        assert result.returncode == 0, result.stderr
        self.process.wait(60)
        self.process = None

    def stop(self) -> None:
        """Whatever runs, stopped: for a test's clean-up."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(120)
        self.edih("down")  # leftovers of a killed `edih up`, if a test left any
        self.process = None

    def recorded(self) -> Run | None:
        return RunFile(self.data_dir / "run" / "edih.pid").read()

    def report(self) -> str:
        return "".join(self.output[-40:]) + self.logs()

    def logs(self) -> str:
        text = []
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            text.append(f"\n--- {log.name}\n" + log.read_text(errors="replace")[-3000:])
        return "".join(text)
