"""The e-mail itself and the retry schedule: what a mail client and an operator would check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest

from services.notifications.domain import RETRY_CAP, retry_delay
from services.notifications.mail import PermanentMailError, compose, message_id
from services.notifications.rendering import RenderedMessage
from shared.settings import Settings

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RENDERED = RenderedMessage(subject="Welkom", text="Beste Anna,\n", html="<p>Beste Anna,</p>\n")


def make(settings: Settings, notification_id: str = "welcome-1", email: str = "anna@example.nl"):
    return compose(
        settings, notification_id=notification_id, to_name="Anna de Vries", to_email=email,
        language="nl", rendered=RENDERED, at=AT,
    )


def test_the_message_has_text_and_html_alternatives_and_the_right_headers():
    parsed = message_from_bytes(bytes(make(Settings())), policy=default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["To"].addresses[0].addr_spec == "anna@example.nl"
    assert parsed["From"].addresses[0].display_name == "EDIH Noord-Nederland"
    assert parsed["Subject"] == "Welkom"
    assert parsed.get_body(("plain",)).get_content() == "Beste Anna,\n"
    assert parsed.get_body(("html",)).get_content() == "<p>Beste Anna,</p>\n"


def test_the_message_id_is_the_same_for_every_copy_of_one_notification():
    settings = Settings()
    assert make(settings)["Message-ID"] == make(settings)["Message-ID"]
    assert make(settings)["Message-ID"] == "<notification-welcome-1@edih-noord.nl>"
    assert make(settings, "welcome-2")["Message-ID"] != make(settings)["Message-ID"]
    odd = message_id(settings, "welcome/<ä>")
    assert odd == message_id(settings, "welcome/<ä>") and "<ä>" not in odd


@pytest.mark.parametrize("email", ["", "not-an-address", "a b@example.nl", "x@y\nBcc: z@q"])
def test_an_unusable_address_is_a_permanent_error(email):
    with pytest.raises(PermanentMailError):
        make(Settings(), email=email)


def test_retries_back_off_from_a_second_and_stay_capped():
    delays = [retry_delay(n) for n in range(1, 40)]
    assert delays[0] == timedelta(seconds=1)
    assert delays[1] == timedelta(seconds=2)
    assert delays == sorted(delays)
    assert max(delays) == RETRY_CAP


def test_a_non_essential_message_offers_one_click_unsubscribe_in_its_headers():
    link = "https://edih.example/unsubscribe?token=abc"
    message = compose(
        Settings(), notification_id="r-1", to_name="Anna", to_email="anna@example.nl", language="nl",
        rendered=RENDERED, at=AT, unsubscribe_url=link,
    )
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert make(Settings())["List-Unsubscribe"] is None
