"""Intake's staff records through the API, on SQLite and PostgreSQL: the intake interview (Amsterdam
time in, UTC stored; no hour the clocks skip, nothing in the past), the plan proposed from the T0 and
agreed once the T0 and the interview are in, company updates with their audit trail (no foundation
year in the future), search by name or KvK number (never blank), and the export and erasure of the
contacts' personal data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.settings import Settings
from tests.integration.test_intake_api import Intake, registration, running_intake
from tests.unit.test_intake_dma import answers


@pytest.fixture
async def intake(settings: Settings) -> AsyncIterator[Intake]:
    async with running_intake(settings) as running:
        yield running


@pytest.fixture
async def company(intake: Intake) -> str:
    return str((await intake.register(registration())).json()["id"])


async def schedule(intake: Intake, company: str, at: str = "2026-03-10T10:00", method: str = "POST") -> Any:
    return await intake.call(method, f"/companies/{company}/intake", {"advisor_id": "7", "scheduled_at": at})


async def outcome(intake: Intake, company: str, **body: Any) -> Any:
    return await intake.call("POST", f"/companies/{company}/intake/outcome", body)


async def test_the_interview_is_scheduled_in_amsterdam_time_and_stored_in_utc(
    intake: Intake, company: str
):
    winter = await intake.call("POST", f"/companies/{company}/intake",
                               {"advisor_id": "7", "scheduled_at": "2026-03-10T10:00"})
    summer = await intake.call("PATCH", f"/companies/{company}/intake",
                               {"advisor_id": "8", "scheduled_at": "2026-04-10T10:00"})
    with_offset = await intake.call("PATCH", f"/companies/{company}/intake",
                                    {"advisor_id": "8", "scheduled_at": "2026-04-10T10:00:00+00:00"})

    assert winter.status_code == 201, winter.text
    assert winter.json()["scheduled_at"] == "2026-03-10T09:00:00Z"  # CET, UTC+1
    assert summer.json()["scheduled_at"] == "2026-04-10T08:00:00Z"  # CEST, UTC+2
    assert with_offset.json()["scheduled_at"] == "2026-04-10T10:00:00Z"
    scheduled = await intake.events("intake-scheduled")
    events = [(d["scheduled_at"], d["advisor_id"], d["rescheduled"]) for _, d in scheduled]
    assert events == [("2026-03-10T09:00:00Z", "7", False), ("2026-04-10T08:00:00Z", "8", True),
                      ("2026-04-10T10:00:00Z", "8", True)]
    read = await intake.call("GET", f"/companies/{company}/intake", role="viewer")
    assert read.json() == with_offset.json()


async def test_an_interview_in_an_hour_the_clocks_skip_or_in_the_past_is_422_and_stores_nothing(
    intake: Intake, company: str
):
    skipped = await schedule(intake, company, "2026-03-29T02:30")
    past = await schedule(intake, company, "2026-03-02T10:29")  # 09:29 UTC, a minute ago

    assert skipped.status_code == 422
    assert skipped.json()["message"] == (
        "scheduled_at: 2026-03-29 02:30 does not exist in Europe/Amsterdam: the clocks go forward "
        "that night; choose another time, or give a UTC offset"
    )
    assert past.status_code == 422
    assert "scheduled_at: 2026-03-02 10:29 (Europe/Amsterdam) is in the past" in past.json()["message"]
    assert (await intake.call("GET", f"/companies/{company}/intake")).status_code == 404
    assert await intake.events("intake-scheduled") == []

    assert (await schedule(intake, company, "2026-03-02T10:30")).status_code == 201  # now is not past
    moved = await schedule(intake, company, "2026-03-01T10:00", method="PATCH")
    assert moved.status_code == 422
    assert (await intake.call("GET", f"/companies/{company}/intake")).json()["scheduled_at"] == (
        "2026-03-02T09:30:00Z"
    )
    assert len(await intake.events("intake-scheduled")) == 1


async def test_an_hour_the_clocks_go_back_is_its_first_occurrence_unless_an_offset_is_given(
    intake: Intake, company: str
):
    first = await schedule(intake, company, "2026-10-25T02:30")
    second = await schedule(intake, company, "2026-10-25T02:30+01:00", method="PATCH")

    assert first.json()["scheduled_at"] == "2026-10-25T00:30:00Z"  # still summer time, UTC+2
    assert second.json()["scheduled_at"] == "2026-10-25T01:30:00Z"


async def test_a_second_schedule_is_409_and_a_reschedule_needs_a_schedule(intake: Intake, company: str):
    missing = await intake.call("PATCH", f"/companies/{company}/intake",
                                {"advisor_id": "7", "scheduled_at": "2026-03-10T10:00"})
    await schedule(intake, company)
    again = await intake.call("POST", f"/companies/{company}/intake",
                              {"advisor_id": "7", "scheduled_at": "2026-03-11T10:00"})
    assert missing.status_code == 404
    assert again.status_code == 409
    assert len(await intake.events("intake-scheduled")) == 1


async def test_the_outcome_and_notes_are_recorded_and_only_a_held_interview_is_published(
    intake: Intake, company: str
):
    await schedule(intake, company)

    no_show = await intake.call("POST", f"/companies/{company}/intake/outcome", {"outcome": "no_show"})
    assert no_show.status_code == 200
    assert await intake.events("intake-completed") == []
    await schedule(intake, company, "2026-03-12T10:00", method="PATCH")
    held = await intake.call("POST", f"/companies/{company}/intake/outcome",
                             {"outcome": "completed", "notes": "Wants cobots", "needs": ["financing"]})
    twice = await intake.call("POST", f"/companies/{company}/intake/outcome", {"outcome": "completed"})

    assert held.status_code == 200, held.text
    assert (held.json()["outcome"], held.json()["notes"], held.json()["needs"]) == (
        "completed", "Wants cobots", ["financing"]
    )
    [(_, event)] = await intake.events("intake-completed")
    assert (event["intake_id"], event["outcome"], event["completed_at"]) == (
        held.json()["id"], "completed", "2026-03-02T09:30:00Z"
    )
    assert "notes" not in event
    assert twice.status_code == 409


async def test_the_plan_is_proposed_from_the_t0_and_the_interview_then_agreed_as_edited(
    intake: Intake, company: str
):
    no_t0 = await intake.call("GET", f"/companies/{company}/plan")
    await schedule(intake, company)
    await outcome(intake, company, outcome="completed", needs=["financing"])
    t0 = answers(q1_invested=8, q2=10, q3=10, q5=7, q6=8, q7=1, q9=(5,) * 5, q10=10, q11=("yes",) * 5)
    await intake.call("POST", f"/companies/{company}/assessments",
                      {"stage": "T0", "questionnaire_version": "sme-v1", "answers": t0})

    proposal = await intake.call("GET", f"/companies/{company}/plan", role="viewer")

    assert no_t0.status_code == 409
    assert proposal.json()["status"] == "proposed"
    assert [(i["kind"], i["title"]) for i in proposal.json()["items"]] == [
        ("training", "Training: Data management and cybersecurity"),
        ("training", "Training: Digital technologies for manufacturing (ERP, IoT, CAD/CAM)"),
        ("networking", "Meet regional front-runners: Data management and cybersecurity"),
        ("financing", "Need noted in the intake interview: financing"),
    ]
    edited: list[dict[str, Any]] = [
        {"kind": "training", "title": "Cybersecurity basics for production staff"},
        {"kind": "financing", "title": "MIT feasibility", "amount_eur": "20000.00", "purpose": "ERP study"},
    ]
    no_amount = await intake.call("POST", f"/companies/{company}/plan",
                                  {"items": [{"kind": "financing", "title": "Loan"}]})
    agreed = await intake.call("POST", f"/companies/{company}/plan", {"items": edited}, role="advisor")
    again = await intake.call("POST", f"/companies/{company}/plan", {"items": edited})

    assert no_amount.status_code == 422
    assert "amount_eur" in no_amount.json()["message"]
    assert agreed.status_code == 201, agreed.text
    assert (agreed.json()["status"], agreed.json()["agreed_by"]) == ("agreed", "tester")
    [(_, event)] = await intake.events("plan-agreed")
    assert [(i["kind"], i["title"], i["amount_eur"], i["purpose"]) for i in event["items"]] == [
        ("training", "Cybersecurity basics for production staff", None, None),
        ("financing", "MIT feasibility", "20000.00", "ERP study"),
    ]
    assert [i["item_id"] for i in event["items"]] == [i["item_id"] for i in agreed.json()["items"]]
    assert again.status_code == 409
    assert (await intake.call("GET", f"/companies/{company}/plan")).json() == agreed.json()
    read = await intake.call("GET", f"/companies/{company}")
    assert read.json()["plan_agreed_at"] == "2026-03-02T09:30:00Z"


async def test_a_plan_is_agreed_only_with_the_t0_and_a_held_interview_and_a_refusal_stores_nothing(
    intake: Intake, company: str
):
    items = {"items": [{"kind": "training", "title": "Cobots for beginners"}]}
    url = f"/companies/{company}/plan"

    neither = await intake.call("POST", url, items)
    await schedule(intake, company)
    await intake.call("POST", f"/companies/{company}/assessments",
                      {"stage": "T0", "questionnaire_version": "sme-v1", "answers": answers(q2=3)})
    proposed = await intake.call("GET", url)
    t0_only = await intake.call("POST", url, items)
    await outcome(intake, company, outcome="no_show")
    no_show = await intake.call("POST", url, items)
    await schedule(intake, company, "2026-03-12T10:00", method="PATCH")
    await outcome(intake, company, outcome="completed")
    agreed = await intake.call("POST", url, items)

    assert neither.status_code == 409
    assert neither.json()["detail"] == (
        f"company {company} cannot agree a plan yet: it needs the T0 assessment and a completed "
        "intake interview"
    )
    # The proposal works from what is there: the T0 without the interview.
    assert (proposed.status_code, proposed.json()["status"]) == (200, "proposed")
    for refused in (t0_only, no_show):
        assert refused.status_code == 409
        assert refused.json()["detail"].endswith("it needs a completed intake interview")
    assert agreed.status_code == 201, agreed.text
    assert len(await intake.events("plan-agreed")) == 1
    agreements = [e for e in (await intake.call("GET", f"/companies/{company}/audit")).json()
                  if e["action"] == "plan-agreed"]
    assert len(agreements) == 1


async def test_an_update_is_audited_with_who_changed_what(intake: Intake, company: str):
    change = {"legal_name": "Staalbouw Noord Holding B.V.", "vat_number": "NL004495445B01",
              "size_class": "50-249"}
    response = await intake.call("PATCH", f"/companies/{company}", change, role="advisor")
    unchanged = await intake.call("PATCH", f"/companies/{company}", {"size_class": "50-249"})
    region = await intake.call("PATCH", f"/companies/{company}", {"region": "friesland"})
    bad_vat = await intake.call("PATCH", f"/companies/{company}", {"vat_number": "NL123456789B01"})
    viewer = await intake.call("PATCH", f"/companies/{company}", {"size_class": "1-9"}, role="viewer")

    assert response.status_code == 200, response.text
    assert response.json()["legal_name"] == "Staalbouw Noord Holding B.V."
    assert response.json()["size_class"] == "50-249"
    assert unchanged.status_code == 200
    assert (region.status_code, bad_vat.status_code, viewer.status_code) == (422, 422, 403)
    trail = (await intake.call("GET", f"/companies/{company}/audit", role="viewer")).json()
    assert [(e["action"], e["actor"]) for e in trail] == [("company-registered", "tester"),
                                                          ("company-updated", "tester")]
    assert trail[1]["changes"] == {
        "legal_name": {"from": "Staalbouw Noord B.V.", "to": "Staalbouw Noord Holding B.V."},
        "size_class": {"from": None, "to": "50-249"},
        "vat_number": {"from": None, "to": "NL004495445B01"},
    }
    assert (await intake.call("GET", f"/companies/{company}")).json()["region"] == "drenthe"


async def test_companies_are_found_by_part_of_their_name_or_their_kvk_number(
    intake: Intake, company: str
):
    other = (await intake.register(registration("87654321", legal_name="Melkveebedrijf 100% Noord"))).json()

    async def found(q: str) -> list[str]:
        response = await intake.call("GET", "/companies", role="viewer", q=q)
        assert response.status_code == 200
        return sorted(c["id"] for c in response.json())

    assert await found("staalbouw") == [company]
    assert await found("NOORD") == sorted([company, other["id"]])
    assert await found("87654321") == [other["id"]]
    assert await found("100%") == [other["id"]]
    assert await found("%") == [other["id"]]  # a literal percent sign, not a wildcard
    assert await found("bakkerij") == []


async def test_a_blank_search_is_422_rather_than_every_company(intake: Intake, company: str):
    for blank in ("  ", "\t", ""):
        response = await intake.call("GET", "/companies", role="viewer", q=blank)

        assert response.status_code == 422, repr(blank)
        assert response.json()["message"].startswith("query.q: "), response.json()
    blank = await intake.call("GET", "/companies", role="viewer", q="  ")
    assert blank.json()["message"] == "query.q: cannot be blank; leave q out to list every company"
    assert [c["id"] for c in (await intake.call("GET", "/companies", role="viewer")).json()] == [company]


async def test_a_foundation_year_after_the_current_one_is_422_and_changes_nothing(
    intake: Intake, company: str
):
    future = await intake.register(registration("87654321", foundation_year=2027))
    this_year = await intake.register(registration("87654321", foundation_year=2026))
    changed = await intake.call("PATCH", f"/companies/{company}", {"foundation_year": 2027})

    assert future.status_code == 422
    assert future.json()["message"] == (
        "foundation_year: 2027 is in the future: a company founded in 2026 or earlier"
    )
    assert this_year.status_code == 201, this_year.text
    assert changed.status_code == 422
    assert (await intake.call("GET", f"/companies/{company}")).json()["foundation_year"] is None
    # The year is the hub's (Amsterdam): half an hour before midnight UTC it is already 2027 there.
    intake.clock.moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert (await intake.call("PATCH", f"/companies/{company}", {"foundation_year": 2027})).status_code == 200


async def test_personal_data_is_exported_then_erased_each_logged_and_erasure_is_published(
    intake: Intake, company: str
):
    await schedule(intake, company)
    await outcome(intake, company, outcome="completed", notes="Anna: 2 kids")

    export = await intake.call("GET", f"/companies/{company}/personal-data")
    erased = await intake.call("POST", f"/companies/{company}/personal-data/erasure")
    again = await intake.call("POST", f"/companies/{company}/personal-data/erasure")
    after = await intake.call("GET", f"/companies/{company}/personal-data")

    assert export.status_code == 200
    assert [(c["name"], c["email"], c["phone"]) for c in export.json()["contacts"]] == [
        ("Jan de Vries", None, "+31 50 123 4567"), ("Anna Bakker", "anna@staalbouw-noord.nl", None),
        ("Piet Smit", "piet@staalbouw-noord.nl", None),
    ]
    assert export.json()["intake_notes"] == "Anna: 2 kids"
    assert erased.status_code == 200, erased.text
    assert erased.json()["contacts"] == 3
    assert again.status_code == 409
    remaining = {(c["name"], c["email"], c["phone"]) for c in after.json()["contacts"]}
    assert remaining == {("[erased]", None, None)}
    assert after.json()["intake_notes"] is None
    company_now = (await intake.call("GET", f"/companies/{company}")).json()
    assert (company_now["legal_name"], company_now["kvk_number"]) == ("Staalbouw Noord B.V.", "01234567")
    assert await intake.events("contacts-erased") == [
        ("contacts-erased",
         {"hub_id": "nl-noord", "company_id": company, "erased_at": "2026-03-02T09:30:00Z"})
    ]
    recipient = await intake.call("GET", f"/internal/recipients/primary-contact/{company}", role="service")
    assert recipient.status_code == 404
    trail = [e["action"] for e in (await intake.call("GET", f"/companies/{company}/audit")).json()]
    assert trail.count("personal-data-exported") == 2
    assert trail.count("contacts-erased") == 1


async def test_personal_data_is_for_staff_who_write(intake: Intake, company: str):
    assert (await intake.call("GET", f"/companies/{company}/personal-data", role="viewer")).status_code == 403
    erase = await intake.call("POST", f"/companies/{company}/personal-data/erasure", role=None)
    assert erase.status_code == 401


async def test_contacts_are_added_and_changed_with_an_audit_trail_without_their_personal_values(
    intake: Intake, company: str
):
    jan, anna, _piet = (await intake.call("GET", f"/companies/{company}")).json()["contacts"]

    added = await intake.call("POST", f"/companies/{company}/contacts",
                              {"name": "Els Mulder", "role": "HR", "email": "els@staalbouw-noord.nl"})
    changed = await intake.call("PATCH", f"/companies/{company}/contacts/{jan['id']}",
                                {"email": "jan@staalbouw-noord.nl", "language": "en"})
    bad_email = await intake.call("PATCH", f"/companies/{company}/contacts/{anna['id']}", {"email": "anna@"})
    unknown = await intake.call("PATCH", f"/companies/{company}/contacts/{company}", {"role": "CEO"})

    assert added.status_code == 201, added.text
    assert [c["name"] for c in added.json()["contacts"]][-1] == "Els Mulder"
    assert changed.status_code == 200, changed.text
    assert changed.json()["contacts"][0]["email"] == "jan@staalbouw-noord.nl"
    assert (bad_email.status_code, unknown.status_code) == (422, 404)
    # Jan now has an e-mail address and comes first: he is the primary contact.
    recipient = await intake.call("GET", f"/internal/recipients/primary-contact/{company}", role="service")
    assert recipient.json() == {"name": "Jan de Vries", "email": "jan@staalbouw-noord.nl", "language": "en"}
    trail = (await intake.call("GET", f"/companies/{company}/audit")).json()
    assert [(e["action"], e["changes"].get("fields")) for e in trail[1:]] == [
        ("contact-added", None), ("contact-updated", ["email", "language"])
    ]
    assert "jan@staalbouw-noord.nl" not in str(trail)


async def test_the_last_e_mail_address_cannot_be_removed(intake: Intake):
    body = registration()
    body["contacts"] = [{"name": "Anna Bakker", "role": "director", "email": "anna@staalbouw-noord.nl"}]
    company = (await intake.register(body)).json()

    response = await intake.call(
        "PATCH", f"/companies/{company['id']}/contacts/{company['contacts'][0]['id']}", {"email": None}
    )

    assert response.status_code == 422
    assert "at least one contact with an e-mail address" in response.json()["detail"]
    read = await intake.call("GET", f"/companies/{company['id']}")
    assert read.json()["contacts"][0]["email"] == "anna@staalbouw-noord.nl"
