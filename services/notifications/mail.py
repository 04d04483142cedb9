"""E-mail over SMTP (aiosmtplib): compose a multipart/alternative message and hand it to the server.

The `Message-ID` is derived from the notification id, so if a message is ever sent twice (the
process stopped between the server's acceptance and the delivery being marked sent) the copies are
recognisably the same message.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from services.notifications.rendering import RenderedMessage
from shared.settings import Settings

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# How aiosmtplib words the bare SMTPException for STARTTLS or AUTH the server does not offer
# ("SMTP STARTTLS extension not supported by server.", "The SMTP AUTH extension is not supported by
# this server.") and for a server whose AUTH methods it speaks none of.
_NOT_OFFERED = re.compile(r"extension (is )?not supported by|no suitable authentication method", re.I)


class PermanentMailError(Exception):
    """The message cannot be delivered as it is (a malformed address, a 5xx answer, a refused
    login): retrying won't help."""


def message_id(settings: Settings, notification_id: str) -> str:
    """`<notification-...@domain>`, the same for every copy of one notification."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or f"{settings.hub_id}.edih.invalid"
    local = notification_id if _SAFE_ID.match(notification_id) else uuid.uuid5(
        uuid.NAMESPACE_URL, f"edih:notification/{notification_id}"
    ).hex
    return f"<notification-{local}@{domain}>"


def compose(
    settings: Settings,
    *,
    notification_id: str,
    to_name: str,
    to_email: str,
    language: str,
    rendered: RenderedMessage,
    at: datetime,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """The e-mail: plain text with an HTML alternative; a non-essential one carries its
    unsubscribe link in the headers too, so mail clients offer one-click unsubscribe (RFC 8058)."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    try:
        message["To"] = Address(display_name=to_name.strip(), addr_spec=to_email.strip())
    except (ValueError, IndexError) as error:
        raise PermanentMailError(f"not a usable e-mail address: {error}") from None
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(settings, notification_id)
    message["Content-Language"] = language
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


class Mailer:
    """Sends messages to the SMTP server of `settings`."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        """Raises PermanentMailError when the server refuses for good (a 5xx answer, a login it
        refuses or does not offer); any other error (server down, a 4xx temporary refusal) is
        worth a retry."""
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,
            cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
            timeout=self.timeout,
        )
        try:
            async with client:  # connects, over TLS or after STARTTLS as the settings say
                if s.smtp_username:
                    await client.login(s.smtp_username, s.smtp_password or "")
                await client.send_message(message)
        except aiosmtplib.SMTPException as error:
            if (reason := permanent_reason(error)) is not None:
                raise PermanentMailError(reason) from None
            raise


def permanent_reason(error: aiosmtplib.SMTPException) -> str | None:
    """Why the server's answer is final, or None when a retry may succeed.

    A 5xx answer to any command is final (RFC 5321: "do not repeat the same request"), as is a
    login the server refuses, or a message it cannot take (SMTPUTF8): those need other settings or
    another message, and retrying them for hours only delays the staff alert. A 4xx answer is
    temporary, also for a login (454); so is every connection problem.
    """
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = error.recipients
        if refused and all(_final(r.code) for r in refused):
            return "recipient refused: " + "; ".join(f"{r.code} {r.message}" for r in refused)
        return None
    if isinstance(error, aiosmtplib.SMTPResponseException):
        login = isinstance(error, aiosmtplib.SMTPAuthenticationError)
        if _final(error.code) or (login and not 400 <= error.code < 500):
            return f"{type(error).__name__}: {error.code} {error.message}"
        return None
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return f"the mail server cannot take this message: {error}"
    if type(error) is aiosmtplib.SMTPException and _NOT_OFFERED.search(str(error)):
        # The settings ask for STARTTLS or a login, and the server does not offer it on this
        # connection (or no AUTH method aiosmtplib speaks): only other settings can fix that.
        return f"the mail server does not offer what the settings ask for: {error}"
    return None


def _final(code: int) -> bool:
    return 500 <= code < 600
