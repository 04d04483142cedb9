"""Personal data of a company's contacts: export it all as JSON, or erase it on request (the
company record stays, its contacts anonymised; `contacts-erased` tells the other services). Both
are audit-logged."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.api.common import (
    StaffWriter,
    company_or_404,
    contacts_of,
    intake_of,
    now_utc,
    write,
)
from services.intake.audit import audit
from shared.contracts import derived_event_id
from shared.contracts.intake import ContactsErased
from shared.service import ContextDep

router = APIRouter(tags=["personal data"])

ERASED = "[erased]"


@router.get("/companies/{company_id}/personal-data")
async def export_personal_data(company_id: str, ctx: ContextDep, staff: StaffWriter) -> dict[str, Any]:
    """Everything intake holds on the company's contacts (and the interview notes about them)."""
    async with ctx.db.transaction() as session:
        company = await company_or_404(session, ctx, company_id, staff=staff)
        contacts = (await contacts_of(session, [company_id]))[company_id]
        intake = await intake_of(session, company_id)
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
    }


@router.post("/companies/{company_id}/personal-data/erasure")
async def erase_personal_data(
    company_id: str, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Anonymise the contacts and the interview notes and publish `contacts-erased`; 409 when done."""

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        if company.contacts_erased_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"the contacts of company {company_id} were already erased")
        now = now_utc(ctx)
        contacts = (await contacts_of(session, [company_id]))[company_id]
        for contact in contacts:
            contact.name, contact.role, contact.email, contact.phone = ERASED, ERASED, None, None
        intake = await intake_of(session, company_id)
        if intake is not None:
            intake.notes = None
            session.add(intake)
        company.contacts_erased_at = now
        session.add_all([company, *contacts])
        await ctx.outbox.add(
            session, "contacts-erased",
            ContactsErased(hub_id=company.hub_id, company_id=company_id, erased_at=now),
            event_id=derived_event_id("contacts-erased", company_id),
        )
        audit(session, ctx, staff.subject, company_id, "contacts-erased", {"contacts": len(contacts)})
        return 200, {"company_id": company_id, "erased_at": now.isoformat(), "contacts": len(contacts)}

    return await write(ctx, request, work)
