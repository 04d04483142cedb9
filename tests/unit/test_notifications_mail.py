"""The e-mail itself, the retry schedule and which answers of the mail server are final: what a mail
client and an operator would check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import aiosmtplib
import pytest

from services.notifications.domain import RETRY_CAP, retry_delay
from services.notifications.mail import PermanentMailError, compose, message_id, permanent_reason
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


def refused(*codes: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(code, "mailbox unavailable", f"r{n}@example.nl")
         for n, code in enumerate(codes)])


FINAL, TEMPORARY = True, False


@pytest.mark.parametrize(("error", "final"), [
    pytest.param(refused(550), FINAL, id="recipient-550"),
    pytest.param(refused(550, 553), FINAL, id="every-recipient-5xx"),
    pytest.param(aiosmtplib.SMTPSenderRefused(553, "sender rejected", "noreply@edih-noord.nl"), FINAL,
                 id="sender-553"),
    pytest.param(aiosmtplib.SMTPDataError(550, "5.7.1 message rejected as spam"), FINAL, id="data-550"),
    pytest.param(aiosmtplib.SMTPDataError(554, "5.6.0 message content rejected"), FINAL, id="data-554"),
    pytest.param(aiosmtplib.SMTPAuthenticationError(535, "5.7.8 bad credentials"), FINAL, id="login-535"),
    pytest.param(aiosmtplib.SMTPAuthenticationError(-1, "no suitable authentication method"), FINAL,
                 id="login-without-code"),
    pytest.param(aiosmtplib.SMTPHeloError(501, "bad hostname"), FINAL, id="helo-501"),
    pytest.param(aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server"), FINAL,
                 id="smtputf8-not-offered"),
    pytest.param(aiosmtplib.SMTPException("SMTP STARTTLS extension not supported by server."), FINAL,
                 id="starttls-not-offered"),
    pytest.param(aiosmtplib.SMTPException("The SMTP AUTH extension is not supported by this server."), FINAL,
                 id="auth-not-offered"),
    pytest.param(aiosmtplib.SMTPException("No suitable authentication method found."), FINAL,
                 id="no-auth-method-spoken"),
    pytest.param(aiosmtplib.SMTPException("SMTP instance is already connected"), TEMPORARY,
                 id="other-client-error"),
    pytest.param(refused(450), TEMPORARY, id="recipient-450"),
    pytest.param(refused(550, 451), TEMPORARY, id="one-recipient-only-delayed"),
    pytest.param(aiosmtplib.SMTPSenderRefused(451, "try again later", "noreply@edih-noord.nl"), TEMPORARY,
                 id="sender-451"),
    pytest.param(aiosmtplib.SMTPDataError(452, "insufficient storage"), TEMPORARY, id="data-452"),
    pytest.param(aiosmtplib.SMTPAuthenticationError(454, "4.7.0 temporary authentication failure"),
                 TEMPORARY, id="login-454"),
    pytest.param(aiosmtplib.SMTPResponseException(421, "service closing"), TEMPORARY, id="closing-421"),
    pytest.param(aiosmtplib.SMTPConnectError("connection refused"), TEMPORARY, id="connect"),
    pytest.param(aiosmtplib.SMTPTimeoutError("timed out"), TEMPORARY, id="timeout"),
    pytest.param(aiosmtplib.SMTPServerDisconnected("unexpectedly closed"), TEMPORARY, id="disconnected"),
])
def test_a_5xx_answer_or_a_refused_login_is_final_and_anything_else_worth_a_retry(error, final):
    reason = permanent_reason(error)
    assert bool(reason) is final
    if final and isinstance(error, aiosmtplib.SMTPResponseException):
        assert str(error.code) in reason, "the log says what the server answered"
