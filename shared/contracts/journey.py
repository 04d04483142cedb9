"""Events published by the journey service (the CompanyJourney workflows)."""

from __future__ import annotations

from datetime import datetime

from shared.contracts.base import Contract, EventData


class JourneyStageChanged(EventData):
    """A company's journey moved from one stage to another."""

    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str
    actor: str


CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "journey-stage-changed", "journey", "event", JourneyStageChanged, ("journey",),
        "A company's journey moved to another stage.",
    ),
)
