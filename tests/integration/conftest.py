"""Fixtures of the integration tests beyond those of tests/conftest.py: Chromium for the browser
tests."""

from __future__ import annotations

import pytest

from tests.support.browser import chromium_or_skip


@pytest.fixture
def chromium_path() -> str:
    """Debian's Chromium; the test is skipped without it, except in CI where it must run."""
    return chromium_or_skip()
