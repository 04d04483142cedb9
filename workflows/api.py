"""HTTP routes of the journey service: the live read of one company's journey (a workflow query)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from temporalio.service import RPCError, RPCStatusCode

from shared.auth import Principal, require
from workflows import workflow_id
from workflows.journey import CompanyJourney
from workflows.models import JourneyView
from workflows.worker import TemporalConnection

router = APIRouter(tags=["journeys"])


def get_temporal(request: Request) -> TemporalConnection:
    return request.app.state.temporal  # type: ignore[no-any-return]


@router.get("/journeys/{company_id}", response_model=JourneyView)
async def read_journey(
    company_id: str,
    temporal: Annotated[TemporalConnection, Depends(get_temporal)],
    _: Annotated[Principal, Depends(require("admin", "advisor", "viewer"))],
) -> JourneyView:
    """The journey as its workflow knows it now: stage, stage history, welcome status."""
    client = await temporal.client()
    handle = client.get_workflow_handle_for(CompanyJourney.run, workflow_id(company_id))
    try:
        return await handle.query(CompanyJourney.state)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no journey for company {company_id}"
            ) from None
        raise
