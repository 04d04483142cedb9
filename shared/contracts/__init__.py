"""Published contracts: the CloudEvents envelope, the registry and the `data` model of every event."""

from shared.contracts.envelope import CONTENT_TYPE, CloudEvent, derived_event_id, new_event_id
from shared.contracts.registry import (
    CONTRACTS,
    Contract,
    UnknownEventType,
    build_event,
    contract,
    contract_for_type,
    parse_data,
)

__all__ = [
    "CONTENT_TYPE",
    "CONTRACTS",
    "CloudEvent",
    "Contract",
    "UnknownEventType",
    "build_event",
    "contract",
    "contract_for_type",
    "derived_event_id",
    "new_event_id",
    "parse_data",
]
