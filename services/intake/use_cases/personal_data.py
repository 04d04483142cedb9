"""Personal data of a company's contacts: export all intake holds, or erase it on request (the
company record stays, its contacts anonymised; `contacts-erased` tells the other services).
Erasure can be asked again whenever personal data came back (contacts added or filled in since):
it erases what is there then; with nothing left to erase it is a Conflict. Both are audit-logged.
Timestamps are given as `isoformat()` writes them, as they always were."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.intake.audit import audit
from services.intake.models import AuditEntry, Contact
from services.intake.use_cases.common import contacts_of, intake_of, known_company, now_utc
from shared import idempotency
from shared.auth import Principal
from shared.clock import Clock
from shared.contracts import derived_event_id
from shared.contracts.intake import ContactsErased
from shared.errors import Conflict
from shared.idempotency import StoredResponse
from shared.outbox import Outbox

ERASED = "[erased]"


class StoredAnswer(BaseModel):
    stored_at: str
    status_code: int
    body: Any


class PersonalData(BaseModel):
    """Everything intake holds on a company's contacts."""

    company_id: str
    exported_at: str
    contacts_erased_at: str | None
    contacts: list[dict[str, Any]]
    intake_notes: str | None
    stored_responses: list[StoredAnswer]
    # What other services hold about the company (services/intake/elsewhere.py), by service; and the
    # services that did not answer, with the reason (the export is then incomplete).
    other_services: dict[str, Any] = {}
    unanswered: dict[str, str] = {}


class Erasure(BaseModel):
    """What an erasure erased: contacts, whether interview notes, and stored answers."""

    company_id: str
    erased_at: str
    contacts: int
    intake_notes: bool
    stored_responses: int


def holds_personal_data(contact: Contact) -> bool:
    return (contact.name, contact.role, contact.email, contact.phone) != (ERASED, ERASED, None, None)


async def export_personal_data(
    session: AsyncSession, company_id: str, *, hub_id: str, clock: Clock, staff: Principal
) -> PersonalData:
    """The contacts (also those added since an erasure), the interview notes about them, and the
    stored answers to retried requests (kept for `Idempotency-Key` retries; they may hold earlier
    values); the export itself is logged."""
    company = await known_company(session, hub_id, company_id, staff=staff)
    contacts = (await contacts_of(session, [company_id]))[company_id]
    intake = await intake_of(session, company_id)
    query = select(StoredResponse).where(StoredResponse.subject == company_id)
    stored = (await session.execute(query.order_by(col(StoredResponse.created_at)))).scalars().all()
    audit(session, clock, hub_id, staff.subject, company_id, "personal-data-exported",
          {"contacts": len(contacts)})
    erased = company.contacts_erased_at
    return PersonalData(
        company_id=company.id,
        exported_at=now_utc(clock).isoformat(),
        contacts_erased_at=erased.isoformat() if erased else None,
        contacts=[
            {k: v.isoformat() if hasattr(v, "isoformat") else v
             for k, v in c.model_dump(exclude={"hub_id", "company_id"}).items()}
            for c in contacts
        ],
        intake_notes=intake.notes if intake else None,
        stored_responses=[
            StoredAnswer(stored_at=r.created_at.isoformat(), status_code=r.status_code,
                         body=json.loads(r.body))
            for r in stored
        ],
    )


async def erase_personal_data(
    session: AsyncSession, company_id: str, *, hub_id: str, clock: Clock, outbox: Outbox,
    staff: Principal,
) -> Erasure:
    """Anonymise the contacts and the interview notes, forget the stored answers about the company
    (a retry with an old `Idempotency-Key` is evaluated afresh) and publish `contacts-erased`;
    Conflict when there is no personal data to erase."""
    company = await known_company(session, hub_id, company_id, staff=staff, for_update=True)
    held = (await contacts_of(session, [company_id]))[company_id]
    contacts = [c for c in held if holds_personal_data(c)]
    intake = await intake_of(session, company_id)
    notes = intake is not None and intake.notes is not None
    if not contacts and not notes:
        erased = company.contacts_erased_at
        raise Conflict(
            f"nothing to erase: the contacts of company {company_id} hold no personal data"
            + (f" (erased at {erased.isoformat()})" if erased else "")
        )
    now = now_utc(clock)
    for contact in contacts:
        contact.name, contact.role, contact.email, contact.phone = ERASED, ERASED, None, None
    if intake is not None and notes:
        intake.notes = None
        session.add(intake)
    forgotten = await idempotency.forget(session, company_id)
    company.contacts_erased_at = now
    session.add_all([company, *contacts])
    await outbox.add(
        session, "contacts-erased",
        ContactsErased(hub_id=company.hub_id, company_id=company_id, erased_at=now),
        event_id=await _erasure_event_id(session, company_id),
    )
    audit(session, clock, hub_id, staff.subject, company_id, "contacts-erased",
          {"contacts": len(contacts), "intake_notes": notes, "stored_responses": forgotten})
    return Erasure(company_id=company_id, erased_at=now.isoformat(), contacts=len(contacts),
                   intake_notes=notes, stored_responses=forgotten)


async def _erasure_event_id(session: AsyncSession, company_id: str) -> str:
    """The id of this erasure's event: the first keeps the id it always had, each later one is
    numbered by the erasures logged before it (counted under the company's lock)."""
    query = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.company_id == company_id, AuditEntry.action == "contacts-erased"
    )
    earlier = int(await session.scalar(query) or 0)
    if earlier == 0:
        return derived_event_id("contacts-erased", company_id)
    return derived_event_id("contacts-erased", company_id, str(earlier + 1))
