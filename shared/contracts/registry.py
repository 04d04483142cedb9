"""The contracts registry: the one table of every event and command the platform exchanges.

Each row gives the short name, the CloudEvents type, the services that may produce it, the topic,
the record key and the pydantic model of its `data`. `docs/events.md` and the JSON Schemas under
`contracts/schemas/` are generated from this table (`python -m shared.contracts`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ValidationError

from shared.contracts import intake, journey, notifications, services, training
from shared.contracts.base import Contract, EventData
from shared.contracts.envelope import CloudEvent, new_event_id

# Each service's contracts module lists its own rows; this is their union, in a stable order.
CONTRACTS: tuple[Contract, ...] = (
    intake.CONTRACTS + journey.CONTRACTS + notifications.CONTRACTS + services.CONTRACTS
    + training.CONTRACTS
)

_BY_TYPE = {c.type: c for c in CONTRACTS}
if len(_BY_TYPE) != len(CONTRACTS):
    raise RuntimeError("two contracts share a CloudEvents type")


class UnknownEventType(LookupError):
    pass


# The version of each data model: a short name with two versions (`notification-sent` v1 and v2) is
# told apart by the model of its data.
_VERSION_OF_MODEL = {c.model: c.version for c in CONTRACTS}


def contract(
    name: str, service: str | None = None, *, sender: str | None = None, version: int | None = None
) -> Contract:
    """The contract of a short name such as `company-registered`.

    A command several services receive (`service-requested`) needs the receiving `service`; an event
    several services publish under one name (`contacts-erased`) is told apart by its `sender`; a
    name with several versions (`notification-sent`) needs the `version`.
    """
    found = [c for c in CONTRACTS if c.name == name and (service is None or c.service == service)
             and (version is None or c.version == version)]
    if len(found) > 1 and sender is not None:
        found = [c for c in found if sender in c.producers] or found
    if not found:
        raise LookupError(f"no contract named {name!r}" + (f" for {service}" if service else ""))
    if len(found) > 1:
        raise LookupError(f"{name!r} names contracts of {[c.type for c in found]}: say which")
    return found[0]


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
    service: str | None = None,
) -> tuple[Contract, CloudEvent]:
    """The envelope for `data` under contract `name` (of `service`), sent by service `sender`; the
    model of `data` picks the version."""
    c = contract(name, service, sender=sender, version=_VERSION_OF_MODEL.get(type(data)))
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
