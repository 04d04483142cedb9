"""The base of every event's `data` (the hub and the company it is about) and of a contract row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Facts and ids, never personal data: names and addresses stay in the owning service."""

    # A tolerant reader: a newer minor version may add optional fields that older consumers ignore.
    model_config = ConfigDict(extra="ignore")

    hub_id: str = Field(description="The hub that owns the record, e.g. nl-noord.")
    company_id: str = Field(description="The company the event is about; also the record key.")


@dataclass(frozen=True)
class Contract:
    """One row of the contracts registry: an event a service publishes or a command it receives.

    `service` is the publisher of an event and the receiver of a command; the type and the topic
    follow from it.
    """

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
