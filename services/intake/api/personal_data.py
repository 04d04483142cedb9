"""Personal data of a company's contacts: export all intake holds as JSON, or erase it on request
(the company record stays, its contacts anonymised; `contacts-erased` tells the other services).
Erasure can be asked again whenever personal data came back (contacts added or filled in since):
it erases what is there then; with nothing left to erase it is a 409. Both are audit-logged."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, func, select

from services.intake.api.common import StaffWriter, company_or_404, contacts_of, intake_of, now_utc, write
from services.intake.audit import audit
from services.intake.models import AuditEntry, Contact
from shared import idempotency
from shared.contracts import derived_event_id
from shared.contracts.intake import ContactsErased
from shared.idempotency import StoredResponse
from shared.service import ContextDep

router = APIRouter(tags=["personal data"])

ERASED = "[erased]"


def holds_personal_data(contact: Contact) -> bool:
    return (contact.name, contact.role, contact.email, contact.phone) != (ERASED, ERASED, None, None)


@router.get("/companies/{company_id}/personal-data")
async def export_personal_data(company_id: str, ctx: ContextDep, staff: StaffWriter) -> dict[str, Any]:
    """Everything intake holds on the company's contacts: the contacts (also those added since an
    erasure), the interview notes about them, and the stored answers to retried requests
    (`stored_responses`, kept for `Idempotency-Key` retries; they may hold earlier values)."""
    async with ctx.db.transaction() as session:
        company = await company_or_404(session, ctx, company_id, staff=staff)
        contacts = (await contacts_of(session, [company_id]))[company_id]
        intake = await intake_of(session, company_id)
        query = select(StoredResponse).where(StoredResponse.subject == company_id)
        stored = (await session.execute(query.order_by(col(StoredResponse.created_at)))).scalars().all()
        audit(session, ctx, staff.subject, company_id, "personal-data-exported", {"contacts": len(contacts)})
    return {
        "company_id": company.id,
        "exported_at": now_utc(ctx).isoformat(),
        "contacts_erased_at": company.contacts_erased_at.isoformat() if company.contacts_erased_at else None,
        "contacts": [
            {k: v.isoformat() if hasattr(v, "isoformat") else v
             for k, v in c.model_dump(exclude={"hub_id", "company_id"}).items()}
            for c in contacts
        ],
        "intake_notes": intake.notes if intake else None,
        "stored_responses": [
            {"stored_at": r.created_at.isoformat(), "status_code": r.status_code, "body": json.loads(r.body)}
            for r in stored
        ],
    }


@router.post("/companies/{company_id}/personal-data/erasure")
async def erase_personal_data(
    company_id: str, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Anonymise the contacts and the interview notes, forget the stored answers about the company
    (a retry with an old `Idempotency-Key` is evaluated afresh) and publish `contacts-erased`;
    409 when there is no personal data to erase."""

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        held = (await contacts_of(session, [company_id]))[company_id]
        contacts = [c for c in held if holds_personal_data(c)]
        intake = await intake_of(session, company_id)
        notes = intake is not None and intake.notes is not None
        if not contacts and not notes:
            erased = company.contacts_erased_at
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"nothing to erase: the contacts of company {company_id} hold no personal data"
                + (f" (erased at {erased.isoformat()})" if erased else ""),
            )
        now = now_utc(ctx)
        for contact in contacts:
            contact.name, contact.role, contact.email, contact.phone = ERASED, ERASED, None, None
        if intake is not None and notes:
            intake.notes = None
            session.add(intake)
        forgotten = await idempotency.forget(session, company_id)
        company.contacts_erased_at = now
        session.add_all([company, *contacts])
        await ctx.outbox.add(
            session, "contacts-erased",
            ContactsErased(hub_id=company.hub_id, company_id=company_id, erased_at=now),
            event_id=await _erasure_event_id(session, company_id),
        )
        audit(session, ctx, staff.subject, company_id, "contacts-erased",
              {"contacts": len(contacts), "intake_notes": notes, "stored_responses": forgotten})
        return 200, {"company_id": company_id, "erased_at": now.isoformat(), "contacts": len(contacts),
                     "intake_notes": notes, "stored_responses": forgotten}

    return await write(ctx, request, work)


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
