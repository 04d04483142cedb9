"""Intake's company tables (`companies`, `contacts`, `quota_pools`, `audit_log`) and the shapes
they take over HTTP; the interview, assessment and plan tables are in `records`. `MODELS` lists
every table of the service (its migrations follow them).

SQLModel tiers: `XBase` holds the fields every shape shares, `XCreate` is what a client sends
(validated with the rules of `domain`), `XPublic` what the API returns, `X(table=True)` the row.
A contact's `position` keeps the order the client gave, which decides the primary contact.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.intake import domain
from services.intake.cohort import Exit
from services.intake.domain import Language, SizeClass
from services.intake.records import Assessment, Intake, Plan, new_id
from shared.contracts.intake import CohortStatus, Region
from shared.db import UTCDateTime


def _checked(check: Callable[[str], object], value: object) -> object:
    """`value` after a domain check, whose message becomes the validation error as it is.

    A custom error, not the ValueError itself: its message carries no "Value error, " prefix and
    its context stays JSON-serialisable in the 422 body.
    """
    if not isinstance(value, str):
        return value  # the field's type reports it
    try:
        return check(value)
    except ValueError as error:
        raise PydanticCustomError("value_error", str(error)) from None


class ContactBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=100, description="e.g. director, IT manager")
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=50)
    language: Language = Field(
        default=domain.DEFAULT_LANGUAGE, sa_type=String(2), description="nl (default) or en"
    )


class ContactCreate(ContactBase):
    @field_validator("name", "role", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("email", "phone", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        # Forms send "" for an empty field; that is "no e-mail", not an invalid one.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> object:
        return _checked(domain.check_email, value)


class ContactUpdate(SQLModel):
    """A change to one contact: only the fields sent change."""

    model_config = {"extra": "forbid"}  # type: ignore[assignment]

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=50)
    language: Language | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return _checked(domain.check_email, value)


class ContactPublic(ContactBase):
    id: str


class Contact(ContactBase, table=True):
    __tablename__ = "contacts"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    company_id: str = Field(foreign_key="companies.id", index=True, max_length=36)
    hub_id: str
    position: int
    created_at: datetime = Field(sa_type=UTCDateTime)


class CompanyBase(SQLModel):
    kvk_number: str = Field(
        max_length=8, description="8 digits, leading zeros kept", schema_extra={"examples": ["01234567"]}
    )
    legal_name: str = Field(min_length=1, max_length=200)
    region: Region = Field(sa_type=String(20))
    nace_code: str = Field(
        max_length=16, schema_extra={"examples": ["C25.62"]},
        description="NACE (or SBI) code; its division decides the section (C = divisions 10-33).",
    )
    vat_number: str | None = Field(
        default=None, max_length=14, schema_extra={"examples": ["NL004495445B01"]},
        description="Dutch VAT number (btw-id), checked by the 11-test or mod 97.",
    )
    size_class: SizeClass | None = Field(default=None, sa_type=String(6), description="Staff size.")
    foundation_year: int | None = Field(default=None, ge=1800, le=2100)
    website: str | None = Field(default=None, max_length=300)


class _CompanyChecks(SQLModel):
    """The checks of the optional company fields, shared by registration and update."""

    @field_validator("vat_number", "website", mode="before", check_fields=False)
    @classmethod
    def _optional_text(cls, value: object, info: Any) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        check = domain.check_vat_number if info.field_name == "vat_number" else domain.check_website
        return _checked(check, value)

    @field_validator("legal_name", mode="before", check_fields=False)
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class CompanyCreate(_CompanyChecks, CompanyBase):
    contacts: list[ContactCreate] = Field(
        description="In order of preference: the first one with an e-mail is the primary contact."
    )

    @field_validator("kvk_number", mode="before")
    @classmethod
    def _kvk(cls, value: object) -> object:
        return _checked(domain.check_kvk_number, value)

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: object) -> object:
        return _checked(domain.check_region, value)

    @field_validator("nace_code", mode="before")
    @classmethod
    def _nace(cls, value: object) -> object:
        return _checked(domain.check_nace_code, value)

    @field_validator("contacts")
    @classmethod
    def _someone_to_write_to(cls, contacts: list[ContactCreate]) -> list[ContactCreate]:
        if not contacts:
            raise PydanticCustomError("value_error", "at least one contact is required")
        if domain.primary_contact(contacts) is None:
            raise PydanticCustomError(
                "value_error", "at least one contact with an e-mail address is required"
            )
        return contacts


class CompanyUpdate(_CompanyChecks):
    """A change to a registered company; region and NACE code are fixed, as they decided its place."""

    model_config = {"extra": "forbid"}  # type: ignore[assignment]

    legal_name: str | None = Field(default=None, min_length=1, max_length=200)
    vat_number: str | None = Field(default=None, max_length=14)
    size_class: SizeClass | None = None
    foundation_year: int | None = Field(default=None, ge=1800, le=2100)
    website: str | None = Field(default=None, max_length=300)


class CompanyPublic(CompanyBase):
    id: str
    cohort_status: CohortStatus
    created_at: datetime
    contacts: list[ContactPublic]
    pool: str | None = Field(None, description="The quota pool of its region; none outside the cohort.")
    waitlist_position: int | None = Field(None, description="Order of registration on the waitlist.")
    exit_status: Exit | None = None
    exit_reason: str | None = None
    plan_agreed_at: datetime | None = None


class Company(CompanyBase, table=True):
    __tablename__ = "companies"
    # One registration per KvK number in a hub; the database settles concurrent attempts.
    __table_args__ = (UniqueConstraint("hub_id", "kvk_number", name="uq_companies_hub_kvk"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str = Field(index=True)
    cohort_status: CohortStatus = Field(sa_type=String(20))
    created_at: datetime = Field(sa_type=UTCDateTime)
    pool: str | None = Field(default=None, index=True, max_length=40)
    waitlist_position: int | None = None
    # True while the company occupies one of its pool's places.
    holds_place: bool = False
    exit_status: Exit | None = Field(default=None, sa_type=String(20))
    exit_reason: str | None = None
    exited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    plan_agreed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    contacts_erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuotaPool(SQLModel, table=True):
    """One row per quota pool: the row a registration or a freed place locks, so that two
    concurrent registrations never take the same last place (the size is a setting)."""

    __tablename__ = "quota_pools"

    hub_id: str = Field(primary_key=True)
    pool: str = Field(primary_key=True, max_length=40)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when: every staff write and every export or erasure of personal data."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    hub_id: str
    company_id: str = Field(index=True, max_length=36)
    actor: str
    action: str
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(sa_type=UTCDateTime)


class AuditEntryPublic(SQLModel):
    actor: str
    action: str
    changes: dict[str, Any]
    at: datetime


class RecipientPublic(SQLModel):
    """A person a message goes to, resolved at send time (for the notifications service)."""

    name: str
    email: str
    language: Language


MODELS: tuple[type[SQLModel], ...] = (Company, Contact, QuotaPool, AuditEntry, Intake, Assessment, Plan)
