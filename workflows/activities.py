"""The journey's activities: the only place its workflow touches the world.

Each writer puts one command or event into the journey service's own outbox (the relay publishes
it). The event id is derived from the workflow id and the activity id, which the workflow sets to a
stable name, so a retried activity - or a workflow replayed, reset or continued-as-new - writes the
record once. `business_deadline` reads the hub calendar here, so its answer is recorded in the
history and a replay does not depend on the holidays library of the day. `questionnaire_link` asks
intake for a fresh link to the company's questionnaire, for an invitation or reminder.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shared.auth import issue_token
from shared.clock import HubCalendar
from shared.contracts import derived_event_id
from shared.contracts.base import EventData
from shared.contracts.journey import JourneyStageChanged
from shared.contracts.notifications import NotificationRequested
from shared.contracts.services import ServiceCancellationRequested, ServiceRequested
from shared.service import ServiceContext
from workflows.models import (
    BusinessDeadline,
    LinkRequest,
    NotificationCommand,
    ServiceCancellationCommand,
    ServiceCommand,
    StageChangeCommand,
)


class JourneyActivities:
    """Activities bound to the running service's database, outbox and relay."""

    def __init__(self, ctx: ServiceContext, http: httpx.AsyncClient | None = None) -> None:
        self.ctx = ctx
        # Tests hand in a client with a mock transport; otherwise one client per call.
        self.http = http

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of the journey, for the worker."""
        return [self.request_notification, self.publish_stage_change, self.request_service,
                self.request_service_cancellation, self.business_deadline, self.questionnaire_link]

    @activity.defn
    async def request_notification(self, request: NotificationRequested | NotificationCommand) -> str:
        """Ask notifications to send a message; returns the event id. (A NotificationCommand comes
        from an activity an older worker scheduled.)"""
        if isinstance(request, NotificationCommand):
            request = request.requested()
        return await self._write("notification-requested", request)

    @activity.defn
    async def publish_stage_change(self, change: JourneyStageChanged | StageChangeCommand) -> str:
        """Tell everyone the journey moved to another stage; returns the event id. (A
        StageChangeCommand comes from an activity an older worker scheduled.)"""
        if isinstance(change, StageChangeCommand):
            change = change.stage_changed()
        return await self._write("journey-stage-changed", change)

    @activity.defn
    async def request_service(self, command: ServiceCommand) -> str:
        """Ask the owning service to deliver one planned item; returns the event id."""
        item = command.item
        data = ServiceRequested(
            hub_id=command.hub_id,
            company_id=command.company_id,
            plan_item_id=item.item_id,
            kind=item.kind,
            title=item.title,
            amount_eur=item.amount_eur,
            purpose=item.purpose,
        )
        return await self._write("service-requested", data, to=command.owner)

    @activity.defn
    async def request_service_cancellation(self, command: ServiceCancellationCommand) -> str:
        """Tell the owning service that staff cancelled a planned item; returns the event id."""
        data = ServiceCancellationRequested(
            hub_id=command.hub_id,
            company_id=command.company_id,
            plan_item_id=command.item_id,
            reason=command.reason,
            actor=command.actor,
        )
        return await self._write("service-cancellation-requested", data, to=command.owner)

    @activity.defn
    async def business_deadline(self, request: BusinessDeadline) -> datetime:
        """The moment `business_days` hub business days after `start`: the same local time of day on
        that business day (holidays and the hub's closing days skipped)."""
        calendar = HubCalendar.from_settings(self.ctx.settings)
        local = request.start.astimezone(calendar.timezone)
        day = calendar.add_business_days(local.date(), request.business_days)
        at = datetime.combine(day, local.time(), tzinfo=calendar.timezone)
        return at.astimezone(request.start.tzinfo)

    @activity.defn
    async def questionnaire_link(self, request: LinkRequest) -> str:
        """The URL of the company's T0 or T1 questionnaire, from intake (signed, expiring)."""
        settings = self.ctx.settings
        url = f"{settings.url_of('intake')}/internal/questionnaire-links/{request.company_id}/{request.stage}"
        headers = {"Authorization": f"Bearer {issue_token(settings, 'journey', 'service')}"}
        if self.http is not None:
            response = await self.http.get(url, headers=headers)
        else:
            async with httpx.AsyncClient(timeout=10) as http:
                response = await http.get(url, headers=headers)
        if response.status_code == 404:
            raise ApplicationError(f"intake knows no company {request.company_id}", non_retryable=True)
        response.raise_for_status()
        return str(response.json()["url"])

    async def _write(self, name: str, data: EventData, to: str | None = None) -> str:
        info = activity.info()
        if info.workflow_id is None:
            raise RuntimeError(f"{info.activity_type} runs only inside a journey workflow")
        event_id = derived_event_id(info.workflow_id, info.activity_id)
        async with self.ctx.db.transaction() as session:
            await self.ctx.outbox.add(session, name, data, event_id=event_id, to=to)
        self.ctx.relay.notify()
        return event_id
