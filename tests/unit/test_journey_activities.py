"""The journey's activities write into the journey outbox under an id derived from the workflow id
and the activity id: a retried activity writes its command once, another journey writes its own, a
service request goes to its owner; the intake deadline counts the hub calendar's business days."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import get_type_hints

import pytest
from sqlmodel import select
from temporalio.testing import ActivityEnvironment

from shared.contracts import CloudEvent, derived_event_id
from shared.contracts.notifications import NotificationRequested
from shared.outbox import OutboxRecord
from shared.service import INFRASTRUCTURE_TABLES, ServiceContext
from shared.settings import Settings
from workflows.activities import JourneyActivities
from workflows.models import (
    BusinessDeadline,
    NotificationCommand,
    PlannedItem,
    ServiceCommand,
    primary_contact,
)
from workflows.worker import DATA_CONVERTER


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[ServiceContext]:
    ctx = ServiceContext.create("journey", Settings(data_dir=tmp_path / "data"))
    await ctx.db.create_all(INFRASTRUCTURE_TABLES)
    yield ctx
    await ctx.db.dispose()


def environment(workflow_id: str, activity_id: str) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=workflow_id, activity_id=activity_id)
    return env


def welcome(company_id: str) -> NotificationCommand:
    return NotificationCommand(
        company_id=company_id, hub_id="nl-noord", notification_id=f"n-{company_id}", message_type="welcome"
    )


async def outbox(ctx: ServiceContext) -> list[OutboxRecord]:
    async with ctx.db.reading() as session:
        return list((await session.execute(select(OutboxRecord))).scalars().all())


async def test_a_retried_activity_writes_its_command_once(ctx):
    activities = JourneyActivities(ctx)
    env = environment("journey-c1", "notification-welcome")
    first = await env.run(activities.request_notification, welcome("c1"))
    again = await env.run(activities.request_notification, welcome("c1"))

    assert first == again == derived_event_id("journey-c1", "notification-welcome")
    [row] = await outbox(ctx)
    assert row.topic == "edih.notifications.commands"
    assert row.key == "c1"
    assert CloudEvent.from_bytes(row.payload).id == first


async def test_an_activity_an_older_worker_scheduled_writes_what_the_contract_model_writes(ctx):
    # Journeys pass NotificationRequested now; a task an older worker scheduled still carries the
    # NotificationCommand it took before, and the data converter must hand it over as that.
    [payload] = await DATA_CONVERTER.encode([welcome("c1")])
    hint = get_type_hints(JourneyActivities.request_notification)["request"]
    [old] = await DATA_CONVERTER.decode([payload], [hint])
    assert isinstance(old, NotificationCommand)
    new = NotificationRequested(company_id="c1", hub_id="nl-noord", notification_id="n-c1",
                                message_type="welcome", recipient=primary_contact("c1"))
    activities = JourneyActivities(ctx)
    await environment("journey-old", "notification-welcome").run(activities.request_notification, old)
    await environment("journey-new", "notification-welcome").run(activities.request_notification, new)

    written = [CloudEvent.from_bytes(row.payload) for row in await outbox(ctx)]
    assert len(written) == 2
    assert written[0].data == written[1].data
    assert written[0].data["recipient"] == {"service": "intake", "kind": "primary-contact", "id": "c1"}


async def test_each_journey_writes_its_own_command(ctx):
    activities = JourneyActivities(ctx)
    for company_id in ("c1", "c2"):
        env = environment(f"journey-{company_id}", "notification-welcome")
        await env.run(activities.request_notification, welcome(company_id))

    assert sorted(row.key for row in await outbox(ctx)) == ["c1", "c2"]


async def test_a_service_request_goes_to_its_owner_commands_topic_once(ctx):
    activities = JourneyActivities(ctx)
    item = PlannedItem(item_id="p-1", kind="networking", title="meet the fieldlab", owner="network")
    command = ServiceCommand(company_id="c1", hub_id="nl-noord", owner="network", item=item)
    env = environment("journey-c1", "service-p-1")
    first = await env.run(activities.request_service, command)
    assert await env.run(activities.request_service, command) == first

    [row] = await outbox(ctx)
    event = CloudEvent.from_bytes(row.payload)
    assert row.topic == "edih.network.commands"
    assert event.type == "eu.edih.network.service-requested.v1"
    assert event.data["plan_item_id"] == "p-1"
    assert event.data["kind"] == "networking"


async def test_the_intake_deadline_counts_hub_business_days_skipping_weekends_and_kings_day(ctx):
    # Friday 24 April 2026, 10:00 in Amsterdam; Monday 27 April is King's Day.
    start = datetime(2026, 4, 24, 8, 0, tzinfo=UTC)
    due = await ActivityEnvironment().run(
        JourneyActivities(ctx).business_deadline, BusinessDeadline(start=start, business_days=5)
    )
    assert due == datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday 4 May, 10:00 in Amsterdam
