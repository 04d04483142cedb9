"""A consumer's handler table: the contract's data model -> `async def handler(session, event, data)`,
checked when it is registered against the contracts registry and the topics the consumer reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import CONTRACTS, CloudEvent
from shared.contracts.base import EventData

Handler = Callable[[AsyncSession, CloudEvent, Any], Awaitable[None]]
# Keyed by the model of the contract's `data`: a command several services receive (one model, one
# contract per receiver) is handled by whichever of its contracts comes on the subscribed topics.
HandlerTable = Mapping[type[EventData], Handler]


class InvalidHandlerTable(ValueError):
    """A handler table names a model the contracts registry does not know, or one that never comes
    on the consumer's topics: the service refuses to start rather than ignore its records."""


def check_handlers(handlers: HandlerTable, topics: Iterable[str]) -> list[str]:
    """The short names of the contracts `handlers` handles on `topics`; raises InvalidHandlerTable
    naming the first model that is not in the registry or not on those topics."""
    subscribed = set(topics)
    names: set[str] = set()
    for model in handlers:
        contracts = [c for c in CONTRACTS if c.model is model]
        label = getattr(model, "__name__", repr(model))
        if not contracts:
            raise InvalidHandlerTable(
                f"handler for {label}: not the data model of any contract in shared/contracts/registry.py"
            )
        heard = [c for c in contracts if c.topic in subscribed]
        if not heard:
            on = sorted({c.topic for c in contracts})
            raise InvalidHandlerTable(
                f"handler for {label}: it comes on {', '.join(on)}, and the consumer subscribes only to "
                f"{', '.join(sorted(subscribed)) or 'nothing'}"
            )
        names.update(c.name for c in heard)
    return sorted(names)
