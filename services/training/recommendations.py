"""Recommendations: active courses that improve a company's weakest DMA dimensions (its T0
scores), with the reason. Published as `training-recommended` when the T0 assessment arrives and
when the journey requests training; read any time on `GET /companies/{id}/recommendations`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.training import domain
from services.training.context import Training
from services.training.models import Course, RecommendationPublic, TrainingCompany
from shared.contracts import derived_event_id
from shared.contracts.training import RecommendedCourse, TrainingRecommended


async def for_company(
    session: AsyncSession, hub_id: str, training: Training, company: TrainingCompany
) -> list[RecommendationPublic]:
    """The courses proposed to the company now (none before its T0 scores arrived)."""
    if not company.t0_scores:
        return []
    query = (
        select(Course)
        .where(Course.hub_id == hub_id, Course.status == "active")
        .order_by(col(Course.created_at), col(Course.id))
    )
    courses = {c.id: c for c in (await session.execute(query)).scalars().all()}
    chosen = domain.recommend(
        company.t0_scores,
        courses.values(),
        weakest_count=training.settings.training_weakest_dimensions,
        per_dimension=training.settings.training_recommended_per_dimension,
    )
    return [
        RecommendationPublic(
            course_id=r.course_id,
            title_nl=courses[r.course_id].title_nl,
            title_en=courses[r.course_id].title_en,
            dimension=r.dimension,
            score=r.score,
            reason=r.reason,
        )
        for r in chosen
    ]


async def publish(
    session: AsyncSession,
    hub_id: str,
    training: Training,
    company: TrainingCompany,
    *,
    trigger: str,
    cause_id: str,
    plan_item_id: str | None = None,
) -> list[RecommendationPublic]:
    """Publish the company's recommendations (when there are any), identified by what caused them."""
    chosen = await for_company(session, hub_id, training, company)
    if chosen:
        await training.outbox.add(
            session,
            "training-recommended",
            TrainingRecommended(
                hub_id=hub_id,
                company_id=company.id,
                trigger=trigger,  # type: ignore[arg-type]
                plan_item_id=plan_item_id,
                courses=[
                    RecommendedCourse(course_id=r.course_id, dimension=r.dimension, score=r.score)
                    for r in chosen
                ],
            ),
            event_id=derived_event_id("training-recommended", company.id, cause_id),
        )
    return chosen
