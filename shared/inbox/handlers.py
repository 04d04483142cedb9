"""A consumer's handler table: the contract's data model -> `async def handler(session, event, data)`,
checked when it is registered against the contracts registry and the topics the consumer reads.

A handler whose effect is outside the service's database (a call to another system) is wrapped in
`EffectFirst`: the consumer runs it before the transaction that records the inbox row, so no
database lock is held during the round trip; such an effect must be idempotent, because a crash
between the effect and the commit repeats it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts import CONTRACTS, CloudEvent
from shared.contracts.base import EventData

Handler = Callable[[AsyncSession, CloudEvent, Any], Awaitable[None]]
# Keyed by the model of the contract's `data`: a command several services receive (one model, one
# contract per receiver) is handled by whichever of its contracts comes on the subscribed topics.
HandlerTable = Mapping[type[EventData], Handler]
Effect = Callable[[CloudEvent, Any], Awaitable[None]]


@dataclass(frozen=True)
class EffectFirst:
    """A handler that is an idempotent effect outside the database, `async def effect(event, data)`:
    the consumer runs it first, then records the inbox row in a transaction of its own (and skips it
    for an event already recorded). Called as a plain handler, it just runs the effect."""

    effect: Effect

    async def __call__(self, session: AsyncSession, event: CloudEvent, data: Any) -> None:
        await self.effect(event, data)


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
