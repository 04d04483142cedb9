"""A company's contacts' routes: add one, or change one (`use_cases.contacts`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.intake.api.common import StaffWriter
from services.intake.models import CompanyPublic, ContactCreate, ContactUpdate
from services.intake.use_cases import contacts
from shared.service import ClockDep, HubDep, IdempotentDep

router = APIRouter(tags=["companies"])


@router.post("/companies/{company_id}/contacts", status_code=201, response_model=CompanyPublic)
async def add_contact(
    company_id: str, new: ContactCreate, staff: StaffWriter, write: IdempotentDep, hub_id: HubDep,
    clock: ClockDep,
) -> CompanyPublic | Response:
    """Add a contact after the others (so it is not the primary contact while an earlier one has
    an e-mail address)."""
    return await write(lambda session: contacts.add_contact(
        session, company_id, new, hub_id=hub_id, clock=clock, staff=staff))


@router.patch("/companies/{company_id}/contacts/{contact_id}", response_model=CompanyPublic)
async def update_contact(
    company_id: str, contact_id: str, change: ContactUpdate, staff: StaffWriter, write: IdempotentDep,
    hub_id: HubDep, clock: ClockDep,
) -> CompanyPublic | Response:
    """Change a contact's details; the company must keep a contact with an e-mail address."""
    return await write(lambda session: contacts.update_contact(
        session, company_id, contact_id, change, hub_id=hub_id, clock=clock, staff=staff))
