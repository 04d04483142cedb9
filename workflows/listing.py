"""Listing journeys: the company journeys of this hub, found through Temporal's visibility (the
search attributes the CompanyJourney workflows keep up to date). `edih journeys list` prints them."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from shared.settings import Settings
from workflows.worker import connect_temporal


@dataclass(frozen=True)
class JourneyRow:
    company_id: str
    stage: str
    region: str
    advisor: str
    overdue: bool


def visibility_query(hub_id: str, stage: str | None = None, region: str | None = None,
                     advisor: str | None = None, overdue: bool = False) -> str:
    """The visibility query of running journeys matching the filters."""
    clauses = ["WorkflowType = 'CompanyJourney'", "ExecutionStatus = 'Running'",
               f"HubId = {_quote(hub_id)}"]
    if stage:
        clauses.append(f"JourneyStage = {_quote(stage)}")
    if region:
        clauses.append(f"Region = {_quote(region)}")
    if advisor:
        clauses.append(f"Advisor = {_quote(advisor)}")
    if overdue:
        clauses.append("Overdue = true")
    return " AND ".join(clauses)


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


async def list_journeys(client: Client, query: str, limit: int = 1000) -> list[JourneyRow]:
    rows = []
    async for execution in client.list_workflows(query, limit=limit):
        if execution.status != WorkflowExecutionStatus.RUNNING:
            continue
        attributes = execution.search_attributes
        rows.append(JourneyRow(
            company_id=execution.id.removeprefix("journey-"),
            stage=str((attributes.get("JourneyStage") or [""])[0]),
            region=str((attributes.get("Region") or [""])[0]),
            advisor=str((attributes.get("Advisor") or [""])[0]),
            overdue=bool((attributes.get("Overdue") or [False])[0]),
        ))
    return sorted(rows, key=lambda r: (r.stage, r.region, r.company_id))


async def print_journeys(settings: Settings, stage: str | None, region: str | None,
                         advisor: str | None, overdue: bool, limit: int = 1000) -> int:
    query = visibility_query(settings.hub_id, stage, region, advisor, overdue)
    try:
        client = await connect_temporal(settings)
    except RuntimeError as error:  # the SDK's failed connect
        print(f"cannot reach Temporal at {settings.temporal_address}: {error}", file=sys.stderr)
        return 1
    try:
        rows = await list_journeys(client, query, limit)
    except RPCError as error:
        hint = (" (register the journey's search attributes: `edih up` does, a cluster's operator runs"
                " `temporal operator search-attribute create`)" if "search attribute" in str(error) else "")
        print(f"Temporal refused the listing: {error}{hint}", file=sys.stderr)
        return 1
    print(f"{'company':<38} {'stage':<20} {'region':<10} {'advisor':<10} overdue")
    for row in rows:
        print(f"{row.company_id:<38} {row.stage:<20} {row.region:<10} {row.advisor:<10} "
              f"{'yes' if row.overdue else ''}")
    print(f"{len(rows)} journeys", file=sys.stderr)
    return 0
