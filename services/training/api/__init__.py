"""Training's HTTP routes, one module per job: the catalogue (courses and sessions), enrolments
(with attendance and certificates), training needs and recommendations, and the internal lookups
for other services (personal-data export, recipients)."""

from fastapi import APIRouter

from services.training.api import catalogue, enrolments, internal, needs

ROUTERS: tuple[APIRouter, ...] = (catalogue.router, enrolments.router, needs.router, internal.router)
