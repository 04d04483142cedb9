"""The contracts registry: the one table of every event and command the platform exchanges.

Each row gives the short name, the CloudEvents type, the services that may produce it, the topic,
the record key and the pydantic model of its `data`. `docs/events.md` and the JSON Schemas under
`contracts/schemas/` are generated from this table (`python -m shared.contracts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ValidationError

from shared.contracts.base import EventData
from shared.contracts.envelope import CloudEvent, new_event_id
from shared.contracts.intake import CompanyRegistered
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.notifications import NotificationRequested, NotificationSent


@dataclass(frozen=True)
class Contract:
    name: str
    service: str
    kind: Literal["event", "command"]
    model: type[EventData]
    producers: tuple[str, ...]
    description: str
    version: int = 1
    key: str = "company id"

    @property
    def type(self) -> str:
        return f"eu.edih.{self.service}.{self.name}.v{self.version}"

    @property
    def topic(self) -> str:
        return f"edih.{self.service}.{'events' if self.kind == 'event' else 'commands'}"


CONTRACTS: tuple[Contract, ...] = (
    Contract(
        "company-registered", "intake", "event", CompanyRegistered, ("intake",),
        "Every accepted registration, with its cohort status.",
    ),
    Contract(
        "notification-requested", "notifications", "command", NotificationRequested,
        ("journey", "intake", "training", "financing", "network"),
        "Send one message to a recipient named by reference.",
    ),
    Contract(
        "notification-sent", "notifications", "event", NotificationSent, ("notifications",),
        "A requested message was delivered to the mail server or webhook.",
    ),
    Contract(
        "journey-stage-changed", "journey", "event", JourneyStageChanged, ("journey",),
        "A company's journey moved to another stage.",
    ),
)

_BY_NAME = {c.name: c for c in CONTRACTS}
_BY_TYPE = {c.type: c for c in CONTRACTS}


class UnknownEventType(LookupError):
    pass


def contract(name: str) -> Contract:
    """The contract of a short name such as `company-registered`."""
    return _BY_NAME[name]


def contract_for_type(event_type: str) -> Contract:
    try:
        return _BY_TYPE[event_type]
    except KeyError:
        raise UnknownEventType(f"no contract for event type {event_type!r}") from None


def build_event(
    name: str,
    data: EventData,
    *,
    sender: str,
    at: datetime,
    event_id: str | None = None,
) -> tuple[Contract, CloudEvent]:
    """The envelope for `data` under contract `name`, sent by service `sender`."""
    c = contract(name)
    if not isinstance(data, c.model):
        raise TypeError(f"{name} takes {c.model.__name__}, not {type(data).__name__}")
    if sender not in c.producers:
        raise ValueError(f"{sender} is not a producer of {name}")
    event = CloudEvent(
        id=event_id or new_event_id(),
        source=f"/{data.hub_id}/{sender}",
        type=c.type,
        subject=data.company_id,
        time=at,
        data=data.model_dump(mode="json"),
    )
    return c, event


def parse_data(event: CloudEvent) -> tuple[Contract, BaseModel]:
    """The contract and validated data of `event`; raises UnknownEventType or ValidationError."""
    c = contract_for_type(event.type)
    data = c.model.model_validate(event.data)
    if data.company_id != event.subject:  # type: ignore[attr-defined]
        raise ValueError(f"subject {event.subject!r} is not the data's company_id")
    return c, data


__all__ = [
    "CONTRACTS",
    "Contract",
    "UnknownEventType",
    "ValidationError",
    "build_event",
    "contract",
    "contract_for_type",
    "parse_data",
]
