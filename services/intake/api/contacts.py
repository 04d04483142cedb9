"""A company's contacts: add one, or change one. The audit log records who changed which fields of
which contact, but not the personal values themselves (they would outlive an erasure there)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain
from services.intake.api.common import StaffWriter, company_or_404, contacts_of, now_utc, public, write
from services.intake.audit import audit
from services.intake.models import CompanyPublic, Contact, ContactCreate, ContactUpdate
from shared.service import ContextDep

router = APIRouter(tags=["companies"])


@router.post("/companies/{company_id}/contacts", status_code=201, response_model=CompanyPublic)
async def add_contact(
    company_id: str, new: ContactCreate, request: Request, ctx: ContextDep, staff: StaffWriter
) -> JSONResponse:
    """Add a contact after the others (so it is not the primary contact while an earlier one has
    an e-mail address)."""

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        contacts = (await contacts_of(session, [company_id]))[company_id]
        position = max((c.position for c in contacts), default=-1) + 1
        contact = Contact(**new.model_dump(), company_id=company_id, hub_id=company.hub_id, position=position,
                          created_at=now_utc(ctx))
        session.add(contact)
        await session.flush()
        audit(session, ctx, staff.subject, company_id, "contact-added", {"contact_id": contact.id})
        return 201, public(company, [*contacts, contact]).model_dump(mode="json")

    return await write(ctx, request, work)


@router.patch("/companies/{company_id}/contacts/{contact_id}", response_model=CompanyPublic)
async def update_contact(
    company_id: str, contact_id: str, change: ContactUpdate, request: Request, ctx: ContextDep,
    staff: StaffWriter,
) -> JSONResponse:
    """Change a contact's details; the company must keep a contact with an e-mail address."""
    for field in ("name", "role", "language"):
        if field in change.model_fields_set and getattr(change, field) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} cannot be removed")

    async def work(session: AsyncSession) -> tuple[int, object]:
        company = await company_or_404(session, ctx, company_id, staff=staff, for_update=True)
        contacts = (await contacts_of(session, [company_id]))[company_id]
        contact = next((c for c in contacts if c.id == contact_id), None)
        if contact is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no contact {contact_id} at company {company_id}")
        changed = sorted(f for f in change.model_fields_set if getattr(contact, f) != getattr(change, f))
        for field in changed:
            setattr(contact, field, getattr(change, field))
        if domain.primary_contact(contacts) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "at least one contact with an e-mail address is required")
        if changed:
            session.add(contact)
            audit(session, ctx, staff.subject, company_id, "contact-updated",
                  {"contact_id": contact_id, "fields": changed})
        return 200, public(company, contacts).model_dump(mode="json")

    return await write(ctx, request, work)
