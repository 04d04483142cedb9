"""The console's pure rules: which stage an event leaves a company in, how the timeline reads, who
sees which company, and that a password hash accepts its password and refuses any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.console import domain
from services.console.auth import hash_password, safe_next, verify_password
from services.console.domain import StageState
from shared.auth import Principal, Role

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cohort_status", "stage"),
    [("admitted", "registered"), ("waitlisted", "waitlisted"), ("outside_cohort", "not_eligible")],
)
def test_a_registration_starts_the_stage_its_cohort_status_implies(cohort_status, stage):
    assert domain.stage_after_registration(StageState(), cohort_status, T0) == StageState(stage, T0)


def test_a_registration_arriving_after_the_journey_moved_on_keeps_the_journeys_stage():
    moved = StageState("intake_scheduled", T0 + timedelta(days=2))
    assert domain.stage_after_registration(moved, "admitted", T0) == moved


def test_a_stage_change_moves_the_company_to_its_new_stage():
    current = StageState("registered", T0)
    later = T0 + timedelta(hours=1)
    assert domain.stage_after_change(current, "intake-scheduled", later) == StageState(
        "intake_scheduled", later
    )


def test_an_older_stage_change_replayed_late_does_not_move_the_company_back():
    current = StageState("plan_agreed", T0 + timedelta(days=10))
    assert domain.stage_after_change(current, "registered", T0) == current


def test_a_stage_change_at_the_same_moment_as_the_registration_applies():
    assert domain.stage_after_change(StageState("registered", T0), "waitlisted", T0).stage == "waitlisted"


@pytest.mark.parametrize("spelling", ["follow-up due", "follow_up_due", "Follow-Up-Due", " follow up  due "])
def test_every_spelling_of_a_stage_is_one_stage_with_one_label(spelling):
    assert domain.normalize_stage(spelling) == "follow_up_due"
    assert domain.stage_label(spelling) == "Follow-up due"


def test_an_unknown_stage_still_reads_as_words():
    assert domain.stage_label("on_hold") == "On hold"
    assert domain.stage_label(None) == "Unknown"


def test_timeline_summaries_say_what_happened():
    assert domain.registration_summary("Acme BV", "12345678", "drenthe", "admitted") == (
        "Registered Acme BV (KvK 12345678, Drenthe): admitted"
    )
    assert domain.stage_change_summary(None, "registered", "company registered", "journey") == (
        "Journey started at stage Registered (company registered, by journey)"
    )
    assert domain.stage_change_summary("registered", "intake_scheduled", "", "advisor@hub.nl") == (
        "Stage Registered → Intake scheduled (by advisor@hub.nl)"
    )
    assert domain.notification_summary("welcome", "email") == "Welcome e-mail sent"


def test_an_advisor_sees_only_the_companies_of_its_regions():
    # The console asks shared.auth.Principal.sees, as every service does.
    def who(role: Role, regions: list[str]) -> Principal:
        return Principal(subject="staff@hub.nl", role=role, hub_id="nl-noord", regions=regions)

    assert who("advisor", ["drenthe"]).sees("drenthe")
    assert not who("advisor", ["drenthe"]).sees("friesland")
    assert not who("advisor", ["drenthe"]).sees(None)
    assert who("viewer", []).sees("friesland")
    assert who("admin", []).sees(None)


def test_a_password_hash_accepts_its_password_and_refuses_others():
    stored = hash_password("correct horse battery staple")
    assert verify_password("correct horse battery staple", stored)
    assert not verify_password("correct horse battery stapl", stored)
    assert not verify_password("", stored)


def test_two_hashes_of_one_password_differ_by_their_salt():
    first, second = hash_password("secret"), hash_password("secret")
    assert first != second
    assert verify_password("secret", first) and verify_password("secret", second)


@pytest.mark.parametrize(
    "stored", ["", "plain-text-password", "bcrypt$1$2$3$AAAA$BBBB", "scrypt$x$8$1$AA$BB"]
)
def test_a_malformed_stored_hash_refuses_every_password(stored):
    assert not verify_password("plain-text-password", stored)


@pytest.mark.parametrize(
    ("asked", "went"),
    [("/companies/42", "/companies/42"), (None, "/"), ("https://evil.example/", "/"),
     ("//evil.example/x", "/"), ("/\\evil.example", "/")],
)
def test_after_sign_in_only_a_path_on_this_site_is_followed(asked, went):
    assert safe_next(asked) == went
