"""A company's contacts: add one, or change one, and the recipient of a message named by reference
(its primary contact). The audit log records who changed which fields of which contact, but not the
personal values themselves (they would outlive an erasure there)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain
from services.intake.audit import audit
from services.intake.models import CompanyPublic, Contact, ContactCreate, ContactUpdate, RecipientPublic
from services.intake.use_cases.common import contacts_of, known_company, now_utc, public
from shared.auth import Principal
from shared.clock import Clock
from shared.errors import Invalid, NotFound


async def add_contact(
    session: AsyncSession, company_id: str, new: ContactCreate, *, hub_id: str, clock: Clock,
    staff: Principal,
) -> CompanyPublic:
    """Add a contact after the others (so it is not the primary contact while an earlier one has
    an e-mail address)."""
    company = await known_company(session, hub_id, company_id, staff=staff, for_update=True)
    contacts = (await contacts_of(session, [company_id]))[company_id]
    position = max((c.position for c in contacts), default=-1) + 1
    contact = Contact(**new.model_dump(), company_id=company_id, hub_id=hub_id, position=position,
                      created_at=now_utc(clock))
    session.add(contact)
    await session.flush()
    audit(session, clock, hub_id, staff.subject, company_id, "contact-added", {"contact_id": contact.id})
    return public(company, [*contacts, contact])


async def update_contact(
    session: AsyncSession, company_id: str, contact_id: str, change: ContactUpdate, *, hub_id: str,
    clock: Clock, staff: Principal,
) -> CompanyPublic:
    """Change a contact's details; the company must keep a contact with an e-mail address."""
    for field in ("name", "role", "language"):
        if field in change.model_fields_set and getattr(change, field) is None:
            raise Invalid(f"{field} cannot be removed")
    company = await known_company(session, hub_id, company_id, staff=staff, for_update=True)
    contacts = (await contacts_of(session, [company_id]))[company_id]
    contact = next((c for c in contacts if c.id == contact_id), None)
    if contact is None:
        raise NotFound(f"no contact {contact_id} at company {company_id}")
    changed = sorted(f for f in change.model_fields_set if getattr(contact, f) != getattr(change, f))
    for field in changed:
        setattr(contact, field, getattr(change, field))
    if domain.primary_contact(contacts) is None:
        raise Invalid("at least one contact with an e-mail address is required")
    if changed:
        session.add(contact)
        audit(session, clock, hub_id, staff.subject, company_id, "contact-updated",
              {"contact_id": contact_id, "fields": changed})
    return public(company, contacts)


RECIPIENT_KINDS = ("primary-contact",)


async def resolve_recipient(
    session: AsyncSession, hub_id: str, kind: str, recipient_id: str
) -> RecipientPublic:
    """The name, e-mail and language of a recipient named in an event, e.g. a company's primary
    contact (`primary-contact` with the company id); NotFound for what intake cannot resolve."""
    if kind not in RECIPIENT_KINDS:
        raise NotFound(f"unknown recipient kind {kind!r}; intake knows {', '.join(RECIPIENT_KINDS)}")
    company = await known_company(session, hub_id, recipient_id)
    primary = domain.primary_contact((await contacts_of(session, [company.id]))[company.id])
    if primary is None or primary.email is None:
        raise NotFound(f"company {recipient_id} has no contact with an e-mail address")
    return RecipientPublic(name=primary.name, email=primary.email, language=primary.language)
