"""The welcome message as a contact reads it: in Dutch by default, in English on request, by name."""

from __future__ import annotations

import typing

import pytest

from services.notifications.domain import MESSAGE_POLICIES, choose_language, policy
from services.notifications.rendering import REQUIRED, SAMPLES, RenderError, Templates
from shared.contracts.notifications import MessageType

HUB = "EDIH Noord-Nederland"


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates()


def test_the_dutch_welcome_greets_the_contact_by_name(templates):
    message = templates.render("welcome", "nl", name="Anna de Vries", hub_name=HUB)
    assert message.subject == "Welkom bij EDIH Noord-Nederland"
    assert message.text.startswith("Beste Anna de Vries,")
    assert "Met vriendelijke groet" in message.text
    assert "Beste Anna de Vries," in message.html
    assert '<html lang="nl">' in message.html


def test_the_english_welcome_greets_the_contact_by_name(templates):
    message = templates.render("welcome", "en", name="John Smith", hub_name=HUB)
    assert message.subject == "Welcome to EDIH Noord-Nederland"
    assert message.text.startswith("Dear John Smith,")
    assert "Kind regards" in message.text
    assert "Dear John Smith," in message.html
    assert "Beste" not in message.text + message.html


def test_a_contact_without_a_name_gets_a_polite_greeting(templates):
    assert templates.render("welcome", "nl", name="  ", hub_name=HUB).text.startswith("Beste ondernemer,")
    assert templates.render("welcome", "en", name="", hub_name=HUB).text.startswith("Dear entrepreneur,")


def test_a_name_is_escaped_in_html_but_kept_in_plain_text(templates):
    message = templates.render("welcome", "nl", name="Jan <b>& Zn</b>", hub_name=HUB)
    assert "Jan &lt;b&gt;&amp; Zn&lt;/b&gt;" in message.html
    assert "Beste Jan <b>& Zn</b>," in message.text


def test_the_subject_is_one_line(templates):
    message = templates.render("welcome", "en", name="X", hub_name="EDIH\nNoord")
    assert "\n" not in message.subject


@pytest.mark.parametrize(
    ("preferred", "language"),
    [(None, "nl"), ("", "nl"), ("nl", "nl"), ("de", "nl"), ("en", "en"), ("EN", "en"), ("en-GB", "en"),
     ("en_US", "en")],
)
def test_the_language_is_dutch_unless_the_contact_prefers_english(preferred, language):
    assert choose_language(preferred) == language


MESSAGE_TYPES = [
    "welcome", "intake-invitation", "questionnaire-invitation", "questionnaire-reminder",
    "training-session-reminder", "financing-deadline", "follow-up-invitation", "follow-up-reminder",
    "staff-alert", "staff-escalation", "training-enrolment-promoted",
]


def test_every_message_type_has_a_template_in_both_languages():
    assert set(typing.get_args(MessageType)) <= set(MESSAGE_TYPES)
    assert sorted(MESSAGE_TYPES) == sorted(MESSAGE_POLICIES)


@pytest.mark.parametrize("message_type", MESSAGE_TYPES)
def test_every_message_type_renders_subject_text_and_html_in_dutch_and_english(templates, message_type):
    dutch = templates.sample(message_type, "nl", HUB)
    english = templates.sample(message_type, "en", HUB)
    for message, lang in ((dutch, "nl"), (english, "en")):
        assert message.subject and "\n" not in message.subject
        assert message.text.strip() and f'<html lang="{lang}">' in message.html
        assert "{{" not in message.text + message.html
    assert dutch.subject != english.subject and dutch.text != english.text
    assert "Met vriendelijke groet" in dutch.text and "Kind regards" in english.text


def required_only(message_type: str) -> dict[str, str]:
    """A request's context with the values its type needs and none of the optional ones."""
    return {key: SAMPLES[message_type][key] for key in REQUIRED[message_type]}


def test_every_message_type_names_its_required_values_and_has_samples_of_them():
    assert sorted(REQUIRED) == sorted(MESSAGE_TYPES)
    for message_type, keys in REQUIRED.items():
        assert keys <= SAMPLES[message_type].keys(), message_type


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("message_type", MESSAGE_TYPES)
def test_every_message_type_renders_with_only_its_required_values(templates, message_type, language):
    # Every optional value absent: a template that reads one without `context.get` fails here.
    message = templates.render(message_type, language, name="Anna", hub_name=HUB,
                               context=required_only(message_type), company_id="c-1")
    assert message.subject and message.text.strip() and f'<html lang="{language}">' in message.html
    assert "None" not in message.subject + message.text + message.html


@pytest.mark.parametrize("message_type", [t for t in MESSAGE_TYPES if REQUIRED[t]])
def test_a_request_without_a_required_value_cannot_be_rendered(templates, message_type):
    for missing in REQUIRED[message_type]:
        context = {k: v for k, v in required_only(message_type).items() if k != missing}
        for language in ("nl", "en"):
            with pytest.raises(RenderError):
                templates.render(message_type, language, name="Anna", hub_name=HUB, context=context)


def test_an_intake_invitation_without_a_location_names_only_the_moment(templates):
    context = {"scheduled_at": "2026-03-03T09:00:00Z"}
    dutch = templates.render("intake-invitation", "nl", name="Anna", hub_name=HUB, context=context)
    english = templates.render("intake-invitation", "en", name="Anna", hub_name=HUB, context=context)
    assert "op dinsdag 3 maart 2026 om 10:00." in dutch.text and "om 10:00</strong>." in dutch.html
    assert "on Tuesday 3 March 2026 at 10:00." in english.text
    located = templates.render("intake-invitation", "nl", name="Anna", hub_name=HUB,
                               context={**context, "location": "NOM, Groningen"})
    assert "om 10:00, NOM, Groningen." in located.text


@pytest.mark.parametrize("message_type", MESSAGE_TYPES)
def test_a_sample_has_an_unsubscribe_link_exactly_when_the_real_message_would(templates, message_type):
    optional = policy(message_type, "transactional").may_opt_out
    for language in ("nl", "en"):
        sample = templates.sample(message_type, language, HUB)
        assert ("https://edih.example/unsubscribe" in sample.text + sample.html) is optional


def test_the_unsubscribe_link_appears_only_when_given(templates):
    link = "https://edih.example/unsubscribe?token=abc"
    context = SAMPLES["questionnaire-reminder"]
    with_link = templates.render("questionnaire-reminder", "nl", name="Anna", hub_name=HUB, context=context,
                                 unsubscribe_url=link)
    assert link in with_link.text and f'href="{link}"' in with_link.html
    without = templates.render("questionnaire-reminder", "nl", name="Anna", hub_name=HUB, context=context)
    assert "afmeld" not in without.text.lower() + without.html.lower()


def test_dates_are_written_out_per_language_in_the_hubs_time(templates):
    context = {"course_title": "Cobots", "starts_at": "2026-04-14T12:30:00Z"}
    nl = templates.render("training-session-reminder", "nl", name="Anna", hub_name=HUB, context=context)
    en = templates.render("training-session-reminder", "en", name="Anna", hub_name=HUB, context=context)
    assert "dinsdag 14 april 2026 om 14:30" in nl.text
    assert "Tuesday 14 April 2026 at 14:30" in en.text
    assert nl.subject == "Herinnering: Cobots"


@pytest.mark.parametrize("context", [{}, {"instrument": "MIT", "deadline": "30 april"}])
def test_a_request_missing_or_garbling_a_value_cannot_be_rendered(templates, context):
    with pytest.raises(RenderError):
        templates.render("financing-deadline", "nl", name="Anna", hub_name=HUB, context=context)


def test_an_unknown_template_cannot_be_rendered(templates):
    with pytest.raises(RenderError):
        templates.render("newsletter", "nl", name="Anna", hub_name=HUB)


def test_a_journey_alert_names_what_is_overdue_in_the_staff_members_language(templates):
    context = {"stage": "registered", "reason": "intake not scheduled", "region": "drenthe"}
    dutch = templates.render("staff-alert", "nl", name="Sanne", hub_name=HUB, context=context)
    english = templates.render("staff-escalation", "en", name="Sanne", hub_name=HUB,
                               context={"reason": "questionnaire not answered"})
    assert dutch.subject == "[EDIH Noord-Nederland] Signaal: Het intakegesprek is nog niet gepland"
    assert english.subject == (
        "[EDIH Noord-Nederland] Escalation: The digital maturity assessment has not been answered")
    other = templates.render("staff-alert", "en", name="", hub_name=HUB, context={"reason": "odd thing"})
    assert other.subject.endswith("Alert: odd thing") and other.text.startswith("Dear colleague,")
    with pytest.raises(RenderError):
        templates.render("staff-alert", "nl", name="", hub_name=HUB, context={"region": "drenthe"})


@pytest.mark.parametrize("message_type", ["questionnaire-invitation", "questionnaire-reminder",
                                          "follow-up-invitation", "follow-up-reminder"])
def test_a_questionnaire_message_without_its_link_says_the_advisor_sends_it(templates, message_type):
    context = {"stage": "registered", "assessment": "T0", "deadline": "2026-03-20"}
    dutch = templates.render(message_type, "nl", name="Anna", hub_name=HUB, context=context)
    english = templates.render(message_type, "en", name="Anna", hub_name=HUB, context=context)
    assert "Uw adviseur stuurt u de link" in dutch.text and "Uw adviseur stuurt u de link" in dutch.html
    assert "Your advisor will send you the link" in english.text + english.html
    assert "<a " not in dutch.html
    linked = templates.render(message_type, "en", name="Anna", hub_name=HUB,
                              context={**context, "questionnaire_url": "https://edih.example/q/x"})
    assert "https://edih.example/q/x" in linked.text and "Your advisor will send" not in linked.text
