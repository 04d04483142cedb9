"""Training needs and recommendations over HTTP: link a need (a plan item the journey asked
training for) to a course, mark it complete, read a company's needs and the courses recommended
for its weakest DMA dimensions."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.training import companies, needs, recommendations
from services.training.api.common import StaffReader, StaffWriter, TrainingDep
from services.training.models import NeedComplete, NeedCourse, NeedPublic, RecommendationPublic
from shared.service import ClockDep, HubDep, IdempotentDep, SessionDep

router = APIRouter(tags=["needs"])


@router.post("/needs/{plan_item_id}/course", response_model=NeedPublic)
async def link_course(
    plan_item_id: str,
    body: NeedCourse,
    write: IdempotentDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    staff: StaffWriter,
) -> NeedPublic | Response:
    """Link the need to the course that will deliver it; it completes when the last session of that
    course the company took part in has ended with at least one of its participants attending."""
    return await write(
        lambda session: needs.link_course(
            body, session, hub_id, clock, training, plan_item_id=plan_item_id, staff=staff
        ),
        subject=lambda answer: answer.company_id,
    )


@router.post("/needs/{plan_item_id}/completion", response_model=NeedPublic)
async def mark_complete(
    plan_item_id: str,
    body: NeedComplete,
    write: IdempotentDep,
    hub_id: HubDep,
    clock: ClockDep,
    training: TrainingDep,
    staff: StaffWriter,
) -> NeedPublic | Response:
    """Staff mark the need complete (`service-completed`, worth the attendees so far)."""
    return await write(
        lambda session: needs.mark_complete(
            body, session, hub_id, clock, training, plan_item_id=plan_item_id, staff=staff
        ),
        subject=lambda answer: answer.company_id,
    )


@router.get("/needs/{plan_item_id}")
async def get_need(plan_item_id: str, session: SessionDep, hub_id: HubDep, staff: StaffReader) -> NeedPublic:
    return NeedPublic.model_validate(await needs.visible_need(session, hub_id, plan_item_id, staff))


@router.get("/companies/{company_id}/needs")
async def company_needs(
    company_id: str, session: SessionDep, hub_id: HubDep, staff: StaffReader
) -> list[NeedPublic]:
    await companies.visible_company(session, hub_id, company_id, staff)
    return await needs.of_company(session, hub_id, company_id)


@router.get("/companies/{company_id}/recommendations")
async def company_recommendations(
    company_id: str, session: SessionDep, hub_id: HubDep, training: TrainingDep, staff: StaffReader
) -> list[RecommendationPublic]:
    """Active courses improving the company's weakest dimensions (of its T0), with the reason."""
    company = await companies.visible_company(session, hub_id, company_id, staff)
    return await recommendations.for_company(session, hub_id, training, company)
