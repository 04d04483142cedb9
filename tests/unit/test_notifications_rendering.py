"""The welcome message as a contact reads it: in Dutch by default, in English on request, by name."""

from __future__ import annotations

import pytest

from services.notifications.domain import choose_language
from services.notifications.rendering import Templates

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
