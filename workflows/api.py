"""HTTP routes of the journey service: the live read of one company's journey (a workflow query)
and the staff actions on it (workflow updates; a refused action answers 409 with the reason).

The staff member named in the journey's log is the token's subject, never a field of the body; an
advisor acts only on journeys of its regions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from shared.auth import Principal, require
from workflows import workflow_id
from workflows.journey import CompanyJourney
from workflows.models import (
    ItemAction,
    ItemOutcome,
    JourneyView,
    Reassignment,
    StaffAction,
    StageMove,
)
from workflows.worker import TemporalConnection

router = APIRouter(tags=["journeys"])

# action in the URL -> the workflow update and the model of its request.
ACTIONS: dict[str, tuple[Any, type[StaffAction]]] = {
    "pause": (CompanyJourney.pause, StaffAction),
    "resume": (CompanyJourney.resume, StaffAction),
    "reassign-advisor": (CompanyJourney.reassign_advisor, Reassignment),
    "cancel-item": (CompanyJourney.cancel_item, ItemAction),
    "record-item": (CompanyJourney.record_item, ItemOutcome),
    "withdraw": (CompanyJourney.withdraw, StaffAction),
    "close": (CompanyJourney.close, StaffAction),
    "move": (CompanyJourney.move_to_stage, StageMove),
}


def get_temporal(request: Request) -> TemporalConnection:
    return request.app.state.temporal  # type: ignore[no-any-return]


async def _journey(temporal: TemporalConnection, company_id: str) -> WorkflowHandle[CompanyJourney, None]:
    client = await temporal.client()
    return client.get_workflow_handle_for(CompanyJourney.run, workflow_id(company_id))


async def _query(handle: WorkflowHandle[CompanyJourney, None], company_id: str) -> JourneyView:
    try:
        return await handle.query(CompanyJourney.state)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no journey for company {company_id}"
            ) from None
        raise


@router.get("/journeys/{company_id}", response_model=JourneyView)
async def read_journey(
    company_id: str,
    temporal: Annotated[TemporalConnection, Depends(get_temporal)],
    _: Annotated[Principal, Depends(require("admin", "advisor", "viewer"))],
) -> JourneyView:
    """The journey as its workflow knows it now: stage, history, planned items, next timer, log."""
    return await _query(await _journey(temporal, company_id), company_id)


@router.post("/journeys/{company_id}/{action}", response_model=JourneyView)
async def act_on_journey(
    company_id: str,
    action: str,
    temporal: Annotated[TemporalConnection, Depends(get_temporal)],
    principal: Annotated[Principal, Depends(require("admin", "advisor"))],
    body: Annotated[dict[str, Any], Body(examples=[{"reason": "company on holiday"}])],
) -> JourneyView:
    """A staff action: pause, resume, reassign-advisor, cancel-item, record-item, withdraw, close or
    move. The body gives the reason and what the action needs (advisor_id, item_id, outcome,
    value_eur, stage)."""
    if action not in ACTIONS:
        known = ", ".join(ACTIONS)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no staff action {action!r}; one of {known}")
    update, model = ACTIONS[action]
    try:
        request = model.model_validate({**body, "actor": principal.subject})
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None
    if not request.reason.strip():
        raise RequestValidationError([{"loc": ("body", "reason"), "msg": "a staff action needs a reason",
                                       "type": "missing"}])
    handle = await _journey(temporal, company_id)
    view = await _query(handle, company_id)
    if not principal.sees(view.region):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the journey is in {view.region}, not your regions")
    try:
        return await handle.execute_update(update, request)  # type: ignore[no-any-return]
    except WorkflowUpdateFailedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error.cause or error)) from None
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            # The journey ended and its workflow completed after keeping it open a while.
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"the journey of company {company_id} has ended ({view.stage}) and is archived; "
                "it cannot change any more",
            ) from None
        raise
