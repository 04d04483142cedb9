"""The base of every event's `data`: the hub and the company it is about."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Facts and ids, never personal data: names and addresses stay in the owning service."""

    model_config = ConfigDict(extra="forbid")

    hub_id: str = Field(description="The hub that owns the record, e.g. nl-noord.")
    company_id: str = Field(description="The company the event is about; also the record key.")
