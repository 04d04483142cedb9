"""What intake's routes share: the role dependencies and the hub's timezone. A route names what it
uses (`shared.service`: the session, the hub id, the clock, the outbox, the idempotent write) and
hands it to its use case (`services.intake.use_cases`)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends

from shared.auth import Principal, require
from shared.service import ContextDep

StaffWriter = Annotated[Principal, Depends(require("admin", "advisor"))]
StaffReader = Annotated[Principal, Depends(require("admin", "advisor", "viewer"))]
SERVICE = Depends(require("service"))


def get_zone(ctx: ContextDep) -> ZoneInfo:
    return ctx.calendar.timezone


# The hub's timezone: local times given without offset, and the current year, are read in it.
ZoneDep = Annotated[ZoneInfo, Depends(get_zone)]
