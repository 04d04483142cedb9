"""The CompanyJourney workflow on the time-skipping test server, with its real activities writing to
a SQLite outbox: a whole journey over nine simulated months, each reminder, alert and escalation at
its moment, held facts applied in order, repeats applied once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shared.clock import HubCalendar
from shared.contracts.intake import CompanyAdmitted
from shared.contracts.notifications import NotificationSent
from tests.support.journeys import (
    ADVISOR,
    AT,
    DAY,
    MINUTE,
    assessed,
    cancelled,
    completed,
    interviewed,
    logged,
    minute,
    plan,
    registered,
    scheduled,
)
from workflows.journey import CompanyJourney
from workflows.models import ItemOutcome


async def test_a_whole_journey_over_nine_months_sends_each_reminder_and_escalation_at_its_moment(journeys):
    company = str(uuid.uuid4())
    company_ref = f"intake/primary-contact:{company}"
    await journeys.publish("company-registered", registered(company))
    view = await journeys.settled(company)
    admitted_at = minute(view.history[0].at)
    assert view.stage == "registered"
    assert view.advisor_id == "5"  # the region's default advisor until intake names one
    assert await journeys.messages(company) == [
        ("welcome", "transactional", company_ref),
        ("questionnaire-invitation", "transactional", company_ref),
    ]
    invitation = (await journeys.outbox("edih.notifications.commands", company))[1]
    answer_by = (view.history[0].at + 21 * DAY).date().isoformat()
    assert invitation.data["context"] == {
        "stage": "registered", "assessment": "T0", "deadline": answer_by,
        "questionnaire_url": f"https://intake.test/questionnaire/{company}-T0",
    }
    # Intake not scheduled: the advisor is alerted 5 business days (hub calendar) after admission.
    calendar = HubCalendar.from_settings(journeys.ctx.settings)
    local = view.history[0].at.astimezone(calendar.timezone)
    alert_at = datetime.combine(calendar.add_business_days(local.date(), 5), local.timetz()).astimezone(UTC)
    assert view.next_timer is not None
    assert (view.next_timer.name, view.next_timer.due_at) == ("intake-alert", alert_at)

    view = await journeys.sleep(company, alert_at - await journeys.now() - timedelta(minutes=1))
    assert len(await journeys.messages(company)) == 2
    view = await journeys.sleep(company, timedelta(minutes=2))
    # From a weekday, 5 business days are 7 days: the first questionnaire reminder fires at the same
    # moment, after the alert (timers due together fire by name).
    at_alert = (await journeys.messages(company))[2:]
    assert at_alert[0] == ("staff-alert", "staff-alert", "console/advisor:5")
    assert at_alert[1:] in ([], [("questionnaire-reminder", "reminder", company_ref)])
    assert logged(view, "requested staff-alert") == [minute(alert_at)]
    assert view.overdue == ["intake not scheduled"]
    alert = (await journeys.outbox("edih.notifications.commands", company))[2]
    assert alert.data["context"]["summary"] == "Intake interview not scheduled after admission"
    assert alert.data["context"]["company_name"] == "Acme BV"

    await journeys.publish("intake-scheduled", scheduled(company))
    view = await journeys.state(company)
    assert (view.stage, view.advisor_id, view.overdue) == ("intake_scheduled", ADVISOR, [])

    # The questionnaire, unanswered: reminders after 7 and 14 days, the advisor after 21.
    for day in (7, 14):
        view = await journeys.sleep(company, admitted_at + day * DAY + MINUTE - await journeys.now())
        assert logged(view, "requested questionnaire-reminder")[-1] == admitted_at + day * DAY
    assert logged(view, "requested questionnaire-reminder") == [admitted_at + 7 * DAY, admitted_at + 14 * DAY]
    view = await journeys.sleep(company, admitted_at + 21 * DAY + MINUTE - await journeys.now())
    assert logged(view, "requested staff-escalation") == [admitted_at + 21 * DAY]
    assert (await journeys.messages(company))[3:] == [
        ("questionnaire-reminder", "reminder", company_ref),
        ("questionnaire-reminder", "reminder", company_ref),
        ("staff-escalation", "staff-alert", f"console/advisor:{ADVISOR}"),
    ]
    assert view.overdue == ["questionnaire not answered"]

    # A plan before the intake is complete waits; the interview and the T0 (either order) release it.
    await journeys.publish("plan-agreed", plan(company))
    view = await journeys.state(company)
    assert [h.fact.name for h in view.held] == ["plan-agreed"]
    assert view.stage == "intake_scheduled"
    await journeys.publish("intake-completed", interviewed(company))
    assert (await journeys.state(company)).stage == "intake_scheduled"
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    view = await journeys.state(company)
    assert view.held == [], (view.stage, view.log[-4:])
    assert view.stage == "in_services"
    assert view.overdue == []
    requests = {
        owner: [(e.type, e.data["plan_item_id"])
                for e in await journeys.outbox(f"edih.{owner}.commands", company)]
        for owner in ("training", "financing", "network")
    }
    assert requests == {
        "training": [("eu.edih.training.service-requested.v1", "p-training")],
        "financing": [("eu.edih.financing.service-requested.v1", "p-financing")],
        "network": [("eu.edih.network.service-requested.v1", "p-networking")],
    }

    # The owners answer; staff record test-before-invest; the last end makes follow-up due.
    await journeys.publish("service-completed", completed(company, "training"), sender="training")
    await journeys.publish("service-cancelled", cancelled(company, "financing"), sender="financing")
    await journeys.publish("service-completed", completed(company, "networking", "800"), sender="network")
    assert (await journeys.state(company)).stage == "in_services"
    view = await journeys.handle(company).execute_update(
        CompanyJourney.record_item,
        ItemOutcome(actor="staff-3", reason="test done in the fieldlab", item_id="p-test_before_invest",
                    outcome="completed", value_eur=Decimal("5000")),
    )
    assert view.stage == "follow_up_due"
    assert {i.item_id: (i.status, i.value_eur) for i in view.items} == {
        "p-training": ("completed", Decimal("1200")),
        "p-financing": ("cancelled", None),
        "p-networking": ("completed", Decimal("800")),
        "p-test_before_invest": ("completed", Decimal("5000")),
    }
    services_ended = view.history[-1].at
    follow_up_at = services_ended + journeys.ctx.settings.journey_follow_up_after

    # Follow-up: the T1 invitation six months on, reminders at +7 and +14 days.
    assert view.next_timer is not None
    assert (view.next_timer.name, view.next_timer.due_at) == ("follow-up-invitation", follow_up_at)
    view = await journeys.sleep(company, follow_up_at - await journeys.now() - DAY)
    assert logged(view, "requested follow-up-invitation") == []
    view = await journeys.sleep(company, 15 * DAY)
    invited = minute(follow_up_at)
    assert logged(view, "requested follow-up-invitation") == [invited]
    assert logged(view, "requested follow-up-reminder") == [invited + 7 * DAY, invited + 14 * DAY]
    assert (await journeys.messages(company))[6:] == [
        ("follow-up-invitation", "transactional", company_ref),
        ("follow-up-reminder", "reminder", company_ref),
        ("follow-up-reminder", "reminder", company_ref),
    ]

    await journeys.publish("assessment-completed", assessed(company, "T1"))
    view = await journeys.state(company)
    assert view.stage == "closed"
    assert not view.closed_without_follow_up
    assert await journeys.stages(company) == [
        "registered", "intake_scheduled", "intake_completed", "plan_agreed", "in_services",
        "follow_up_due", "follow_up_completed", "closed",
    ]
    assert [(c.to_stage, c.actor) for c in view.history][3] == ("plan_agreed", ADVISOR)
    assert len(await journeys.messages(company)) == 9

    # An ended journey records late facts a while, then its workflow completes.
    await journeys.env.sleep(journeys.ctx.settings.journey_keep_after_end + DAY)
    await journeys.handle(company).result()
    assert await journeys.now() - admitted_at > timedelta(days=9 * 30)


async def test_the_same_fact_signalled_twice_is_applied_once(journeys):
    company = str(uuid.uuid4())
    event = await journeys.publish("company-registered", registered(company))
    await journeys.bridge.company_registered(event, registered(company))
    await journeys.bridge.signal(event, registered(company))
    scheduling = await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.bridge.signal(scheduling, scheduled(company))
    view = await journeys.settled(company)

    assert view.applied_facts == 2
    assert [c.to_stage for c in view.history] == ["registered", "intake_scheduled"]
    assert [m[0] for m in await journeys.messages(company)] == ["welcome", "questionnaire-invitation"]
    assert await journeys.stages(company) == ["registered", "intake_scheduled"]


async def test_the_welcome_delivery_is_recorded(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company))
    [welcome, _] = await journeys.outbox("edih.notifications.commands", company)
    sent = NotificationSent(hub_id="nl-noord", company_id=company,
                            notification_id=welcome.data["notification_id"], message_type="welcome",
                            channel="email", sent_at=AT.replace(hour=10))
    await journeys.publish("notification-sent", sent, sender="notifications")

    view = await journeys.state(company)
    assert view.welcome == "sent"
    assert view.welcome_sent_at == AT.replace(hour=10)


@pytest.mark.parametrize(
    ("cohort_status", "stage"), [("waitlisted", "waitlisted"), ("outside_cohort", "not_eligible")]
)
async def test_a_registration_without_a_place_opens_the_journey_without_messages(
    journeys, cohort_status, stage
):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company, cohort_status))
    view = await journeys.state(company)
    assert view.stage == stage
    assert view.welcome == "not-requested"
    assert await journeys.stages(company) == [stage]
    assert await journeys.messages(company) == []


async def test_facts_held_for_their_prerequisites_are_applied_in_order_when_it_arrives(journeys):
    company = str(uuid.uuid4())
    await journeys.publish("company-registered", registered(company, "waitlisted"))
    await journeys.publish("intake-scheduled", scheduled(company))
    await journeys.publish("intake-completed", interviewed(company))
    await journeys.publish("assessment-completed", assessed(company, "T0"))
    await journeys.publish("plan-agreed", plan(company, "training"))
    await journeys.publish("service-completed", completed(company, "training"), sender="training")
    view = await journeys.state(company)
    assert view.stage == "waitlisted"
    assert [(h.fact.name, h.reason) for h in view.held] == [
        ("intake-scheduled", "waits for the company's admission"),
        ("intake-completed", "waits for the intake to be scheduled"),
        ("plan-agreed", "waits for the intake and the T0 assessment"),
        ("service-completed", "waits for the plan that names this item"),
    ]

    await journeys.publish("company-admitted", CompanyAdmitted(hub_id="nl-noord", company_id=company,
                                                               pool="groningen-friesland"))
    view = await journeys.state(company)
    assert view.held == []
    assert await journeys.stages(company) == [
        "waitlisted", "registered", "intake_scheduled", "intake_completed", "plan_agreed", "in_services",
        "follow_up_due",
    ]
    # The questionnaire was answered before admission: no invitation, no reminders.
    assert [m[0] for m in await journeys.messages(company)] == ["welcome"]
    assert view.next_timer is not None and view.next_timer.name == "follow-up-invitation"


@pytest.mark.parametrize("settings_overrides", [{"journey_link_attempts": 2}])
async def test_without_intake_the_invitation_goes_without_its_link_and_the_journey_says_why(journeys):
    company = str(uuid.uuid4())
    journeys.intake.down = True
    await journeys.publish("company-registered", registered(company))
    view = await journeys.state(company)

    [_, invitation] = await journeys.outbox("edih.notifications.commands", company)
    assert invitation.data["message_type"] == "questionnaire-invitation"
    assert "questionnaire_url" not in invitation.data["context"]
    [note] = [e for e in view.log if e.action == "questionnaire link unavailable"]
    assert "503" in note.reason
