"""The plan proposal, without I/O: from the T0 assessment's weakest dimensions and the needs the
advisor noted in the intake interview, the services the hub proposes. The advisor edits and agrees
it; the proposal is only a starting point.

Rules: training on the topics of the two weakest dimensions (lowest exact score, ties in the
questionnaire's order); test-before-invest when an advanced technology (Q4) or an automation area
(Q9) is being considered or prototyped (rated 1 or 2); a financing need when the company plans
investments (Q1 "plan to invest") without finance secured for a year (Q2 item 2), its amount left
for the advisor to fill in; networking with regional front-runners in the weakest dimension. A need
noted in the interview adds an item of that kind when the rules proposed none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from services.intake.dma import DIMENSIONS
from shared.contracts.intake import ServiceKind

TRAINING_TOPICS = {
    "digital_business_strategy": "Digital strategy and investment planning",
    "digital_readiness": "Digital technologies for manufacturing (ERP, IoT, CAD/CAM)",
    "human_centric_digitalisation": "Upskilling staff and leading digital change",
    "data_management": "Data management and cybersecurity",
    "automation_ai": "Automation, robotics and applied AI",
    "green_digitalisation": "Digitalisation for sustainability",
}
WEAKEST_COUNT = 2
_EXPERIMENTING = (1, 2)  # considering, prototyping


@dataclass(frozen=True)
class Proposal:
    kind: ServiceKind
    title: str
    amount_eur: Decimal | None = None
    purpose: str | None = None


def weakest(dimensions: dict[str, Fraction], count: int = WEAKEST_COUNT) -> list[str]:
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    return sorted(dimensions, key=lambda d: (dimensions[d], order[d]))[:count]


def propose(
    dimensions: dict[str, Fraction], answers: dict[str, Any], interview_needs: Iterable[ServiceKind] = ()
) -> list[Proposal]:
    """The proposed plan for a company with these exact T0 scores and answers."""
    lowest = weakest(dimensions)
    items = [Proposal("training", f"Training: {TRAINING_TOPICS[d]}") for d in lowest]
    trying = [
        item for q in ("q4", "q9") for item, rating in answers.get(q, {}).items() if rating in _EXPERIMENTING
    ]
    if trying:
        items.append(Proposal("test_before_invest", f"Test before invest: {', '.join(sorted(trying))}"))
    q1 = answers.get("q1", {})
    planned = [item for item, v in q1.items() if v.get("planned") and not v.get("invested")]
    if planned and not answers.get("q2", {}).get("q2.2", False):
        items.append(
            Proposal("financing", "Financing of planned digital investments",
                     purpose=f"Investments planned in business areas {', '.join(planned)}")
        )
    items.append(Proposal("networking", f"Meet regional front-runners: {TRAINING_TOPICS[lowest[0]]}"))
    proposed_kinds = {item.kind for item in items}
    for need in dict.fromkeys(interview_needs):
        if need not in proposed_kinds:
            items.append(Proposal(need, f"Need noted in the intake interview: {need.replace('_', ' ')}"))
    return items
