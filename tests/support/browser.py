"""What the browser tests share: Debian's Chromium for Playwright (never `playwright install`,
which downloads a browser); `served` (tests/support/served.py) puts the app where it can reach it."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_or_skip() -> str:
    """The path of Chromium; without it the test is skipped, except in CI where it must run."""
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); browser test skipped")
    return chromium
