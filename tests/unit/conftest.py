"""Fixtures of the unit tests: `journeys`, a journey worker on the time-skipping Temporal server
(with `settings_overrides` for a test's own journey settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.journeys import Journeys, journey_settings, running_journeys


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def journeys(tmp_path: Path, settings_overrides: dict[str, Any]) -> AsyncIterator[Journeys]:
    async with running_journeys(journey_settings(tmp_path, **settings_overrides)) as running:
        yield running
