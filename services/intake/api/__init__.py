"""Intake's HTTP routes, one module per job: companies (registry, search, updates, audit trail),
contacts, exits (withdrawal, not eligible), the intake interview, assessments, the company's own
questionnaire link, the plan, personal data (export, erasure) and internal recipient lookups."""

from fastapi import APIRouter

from services.intake.api import (
    assessments,
    companies,
    contacts,
    exits,
    internal,
    interviews,
    personal_data,
    plans,
    public,
)

ROUTERS: tuple[APIRouter, ...] = (
    companies.router, contacts.router, exits.router, interviews.router, assessments.router, public.router,
    public.staff, plans.router, personal_data.router, internal.router,
)
