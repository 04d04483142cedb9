"""What training's routes share: the role dependencies (admin and advisor manage, viewers read,
services use the internal lookups) and the use cases' `Training` (outbox, calendar, settings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.training.context import Training
from shared.auth import Principal, require

StaffWriter = Annotated[Principal, Depends(require("admin", "advisor"))]
StaffReader = Annotated[Principal, Depends(require("admin", "advisor", "viewer"))]
SERVICE = Depends(require("service"))


def get_training(request: Request) -> Training:
    return request.app.state.training  # type: ignore[no-any-return]


TrainingDep = Annotated[Training, Depends(get_training)]
