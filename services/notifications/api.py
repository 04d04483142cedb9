"""HTTP routes of notifications: the delivery log of a company, for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlmodel import col, select

from services.notifications.models import Delivery, DeliveryPublic
from shared.auth import Principal, require
from shared.service import ContextDep

router = APIRouter(tags=["deliveries"])

StaffDep = Annotated[Principal, Depends(require("admin", "advisor", "viewer"))]


@router.get("/deliveries", response_model=list[DeliveryPublic])
async def list_deliveries(
    ctx: ContextDep,
    _: StaffDep,
    company_id: Annotated[str, Query(min_length=1, description="The company whose messages to list.")],
) -> list[Delivery]:
    """Every message requested for a company, oldest first, with its status and attempts."""
    async with ctx.db.reading() as session:
        rows = await session.execute(
            select(Delivery)
            .where(col(Delivery.company_id) == company_id)
            .order_by(col(Delivery.created_at), col(Delivery.id))
        )
        return list(rows.scalars().all())
