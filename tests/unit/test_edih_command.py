"""What the `edih` command shows a user: the README's "What you see after `make up`" is exactly what
`edih up` prints with the default settings (start-up, welcome, stop), and `edih token --role admin`
prints the token alone on its last line of stdout, so `$(edih token | tail -n 1)` works; `edih journeys
list` says in one line when Temporal cannot be reached; a command piped into a reader that went away
(`edih ... | head`) ends quietly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edih.settings import PlatformSettings
from edih.stack import Stack, start_line
from shared.auth import decode_token
from shared.settings import DEV_SECRET, Settings

ROOT = Path(__file__).resolve().parents[2]


def readme_blocks(heading: str) -> list[list[str]]:
    """The fenced blocks of the README section under `heading`, as lines."""
    section = ROOT.joinpath("README.md").read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [block.splitlines() for block in re.findall(r"```\n(.*?)```", section, re.S)]


@pytest.fixture
def default_stack(monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The stack as `make up` runs it from the checkout: no EDIH_ settings, the checkout's folder."""
    for name in [n for n in os.environ if n.startswith("EDIH_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)
    return Stack(PlatformSettings())


def test_the_readme_shows_what_edih_up_prints(default_stack: Stack):
    started, stopped = readme_blocks("What you see after `make up`")
    names = [c.name for c in default_stack.components]
    assert started[:2] == ["$ make up", ".venv/bin/edih up"]
    assert started[2:] == [start_line(i, len(names), name) for i, name in enumerate(names, 1)] + (
        default_stack.welcome_lines())
    assert stopped == ["stopping ...", *(f"  stopping {name} ..." for name in reversed(names)),
                       "stopped; data kept in .edih"]


def test_edih_token_prints_only_the_token_on_its_last_stdout_line(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIH_")}
    result = subprocess.run([sys.executable, "-m", "edih.cli", "token", "--role", "admin"],
                            env={**env, "EDIH_DATA_DIR": str(tmp_path)}, capture_output=True,
                            text=True, timeout=60, check=True)
    token = result.stdout.splitlines()[-1]
    assert token == result.stdout.strip()  # nothing else on stdout
    principal = decode_token(Settings(jwt_secret=DEV_SECRET, hub_id="nl-noord"), token)
    assert (principal.role, principal.subject, principal.hub_id) == ("admin", "local-admin", "nl-noord")
    assert "Bearer token for local-admin (admin)" in result.stderr


def test_edih_journeys_list_says_when_temporal_cannot_be_reached(tmp_path: Path):
    from edih.infra import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIH_")}
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    result = subprocess.run([sys.executable, "-m", "edih.cli", "journeys", "list"],
                            env={**env, "EDIH_DATA_DIR": str(tmp_path), "EDIH_TEMPORAL_ADDRESS": address},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith(f"cannot reach Temporal at {address}")
    assert "Traceback" not in result.stderr


# 141: as a shell reports a process that SIGPIPE ended; argparse ignores a failed write of its help.
@pytest.mark.parametrize(("arguments", "code"), [(["token"], 141), (["journeys", "--help"], 0)])
def test_edih_piped_into_a_reader_that_went_away_ends_quietly(tmp_path: Path, arguments: list[str],
                                                               code: int):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIH_")}
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` once it has its lines: every write meets a closed pipe
    try:
        result = subprocess.run([sys.executable, "-m", "edih.cli", *arguments],
                                env={**env, "EDIH_DATA_DIR": str(tmp_path)}, stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert "BrokenPipeError" not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.returncode == code
