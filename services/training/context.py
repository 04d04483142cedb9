"""What training's use cases take beside a command, a database session, the hub id and the clock:
the outbox they publish through, the hub calendar and training's settings (`Training`), and the
staff member asking, if any."""

from __future__ import annotations

from dataclasses import dataclass

from services.training.settings import TrainingSettings
from shared.clock import HubCalendar
from shared.outbox import Outbox


@dataclass(frozen=True)
class Training:
    """The narrow things a use case needs beyond its arguments."""

    outbox: Outbox
    calendar: HubCalendar
    settings: TrainingSettings
