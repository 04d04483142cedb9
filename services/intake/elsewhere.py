"""Personal data about a company that other services hold (training's participants, ...): intake's
export gathers it from each service named in `EDIH_INTAKE_PERSONAL_DATA_SERVICES` with their
internal export, `GET /internal/personal-data/{company_id}` (role `service`). Asked before the
export's own transaction, so no remote call holds intake's database. A service that does not
answer is named in the export with the reason, so an incomplete export never passes for whole."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx

from services.intake.settings import IntakeSettings
from shared.auth import issue_token


async def gather(settings: IntakeSettings, company_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What each service answered about the company, and why the others gave nothing."""
    token = issue_token(settings, "intake", "service")
    async with httpx.AsyncClient(timeout=10.0, headers={"Authorization": f"Bearer {token}"}) as client:
        answers = await asyncio.gather(*(
            _ask(client, settings, service, company_id) for service in settings.intake_personal_data_services
        ))
    held = {service: data for service, data, _ in answers if data is not None}
    unanswered = {service: reason for service, _, reason in answers if reason is not None}
    return held, unanswered


async def _ask(
    client: httpx.AsyncClient, settings: IntakeSettings, service: str, company_id: str
) -> tuple[str, Any, str | None]:
    try:
        url = f"{settings.url_of(service)}/internal/personal-data/{quote(company_id, safe='')}"
        response = await client.get(url)
    except (httpx.HTTPError, LookupError) as error:
        return service, None, f"{service} could not be asked: {type(error).__name__}: {error}"
    if response.status_code != 200:
        return service, None, f"{service} answered {response.status_code}: {response.text[:200]}"
    return service, response.json(), None
