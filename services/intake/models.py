"""Intake's tables (`companies`, `contacts`) and the shapes they take over HTTP.

SQLModel tiers: `XBase` holds the fields every shape shares, `XCreate` is what a client sends
(validated with the rules of `domain`), `XPublic` what the API returns, `X(table=True)` the row.
A contact's `position` keeps the order the client gave, which decides the primary contact.
"""

import uuid
from collections.abc import Callable
from datetime import datetime

from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.intake import domain
from services.intake.domain import Language
from shared.contracts.intake import CohortStatus, Region
from shared.db import UTCDateTime


def new_id() -> str:
    return str(uuid.uuid4())


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
    nace_code: str = Field(max_length=16, schema_extra={"examples": ["C25.62"]})


class CompanyCreate(CompanyBase):
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

    @field_validator("legal_name", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

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


class CompanyPublic(CompanyBase):
    id: str
    cohort_status: CohortStatus
    created_at: datetime
    contacts: list[ContactPublic]


class Company(CompanyBase, table=True):
    __tablename__ = "companies"
    # One registration per KvK number in a hub; the database settles concurrent attempts.
    __table_args__ = (UniqueConstraint("hub_id", "kvk_number", name="uq_companies_hub_kvk"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    hub_id: str = Field(index=True)
    cohort_status: CohortStatus = Field(sa_type=String(20))
    created_at: datetime = Field(sa_type=UTCDateTime)


class RecipientPublic(SQLModel):
    """A person a message goes to, resolved at send time (for the notifications service)."""

    name: str
    email: str
    language: Language
