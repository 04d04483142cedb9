"""The console's own tables: the read model projected from events, and the staff accounts.

`company_views` and `timeline_entries` can be dropped and rebuilt from the events; `staff_accounts`
is the one thing the console owns outright.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime


class CompanyView(SQLModel, table=True):
    """One company as the events describe it. A row can exist before its registration arrives
    (events of other topics may come first); its registration fields are then still empty."""

    __tablename__ = "company_views"

    company_id: str = Field(primary_key=True)
    hub_id: str
    kvk_number: str | None = None
    legal_name: str | None = None
    region: str | None = Field(default=None, index=True)
    nace_code: str | None = None
    cohort_status: str | None = None
    stage: str | None = Field(default=None, index=True)
    stage_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    registered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TimelineEntry(SQLModel, table=True):
    """One event in a company's history, as staff read it."""

    __tablename__ = "timeline_entries"

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(index=True)
    event_id: str = Field(unique=True)
    type: str
    summary: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)


class StaffAccount(SQLModel, table=True):
    """A person who signs in to the console. `regions` limits an advisor to those regions."""

    __tablename__ = "staff_accounts"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)
    name: str = ""
    language: str = "nl"
    password_hash: str
    role: str
    regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


MODELS: tuple[type[SQLModel], ...] = (CompanyView, TimelineEntry, StaffAccount)


class TimelineEntryPublic(BaseModel):
    type: str
    summary: str
    at: datetime


class CompanyPublic(BaseModel):
    """What `GET /api/companies/{id}` returns: the company, its stage and its timeline, newest first."""

    company_id: str
    hub_id: str
    kvk_number: str | None
    legal_name: str | None
    region: str | None
    nace_code: str | None
    cohort_status: str | None
    stage: str | None
    stage_label: str
    stage_changed_at: datetime | None
    registered_at: datetime | None
    timeline: list[TimelineEntryPublic]


class StaffRecipient(BaseModel):
    """A staff member as notifications needs them at send time."""

    name: str
    email: str
    language: str
