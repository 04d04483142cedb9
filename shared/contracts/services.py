"""Services to a company: the journey's requests to the owning services, and their answers.

`service-requested` is a command to the service that owns the kind of service (training, financing,
network), and `service-cancellation-requested` the command that withdraws it when staff cancel the
planned item in the journey; `service-completed` and `service-cancelled` are facts that owner
publishes. Each is one contract row per owning service, so its type and topic name that service.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from shared.contracts.base import Contract, EventData
from shared.contracts.intake import ServiceKind

OWNERS = ("training", "financing", "network")


class ServiceRequested(EventData):
    """Deliver the planned service `plan_item_id` to the company."""

    plan_item_id: str
    kind: ServiceKind
    title: str
    amount_eur: Decimal | None = None
    purpose: str | None = None


class ServiceCancellationRequested(EventData):
    """Staff cancelled the planned service `plan_item_id` in the journey: stop delivering it. The
    owner answers with `service-cancelled` (or `service-completed`, if it was delivered already)."""

    plan_item_id: str
    reason: str
    actor: str = Field(description="The staff account that cancelled it.")


class ServiceCompleted(EventData):
    """The planned service was delivered; its value counts for the budget and de minimis."""

    plan_item_id: str
    value_eur: Decimal = Field(ge=0)
    completed_at: datetime


class ServiceCancelled(EventData):
    """The planned service will not be delivered."""

    plan_item_id: str
    reason: str


CONTRACTS: tuple[Contract, ...] = tuple(
    row
    for owner in OWNERS
    for row in (
        Contract("service-requested", owner, "command", ServiceRequested, ("journey",),
                 f"The journey asks {owner} to deliver a planned service."),
        Contract("service-cancellation-requested", owner, "command", ServiceCancellationRequested,
                 ("journey",), f"Staff cancelled a planned service that {owner} delivers."),
        Contract("service-completed", owner, "event", ServiceCompleted, (owner,),
                 f"{owner} delivered a planned service, with its value."),
        Contract("service-cancelled", owner, "event", ServiceCancelled, (owner,),
                 f"{owner} will not deliver a planned service."),
    )
)
