"""The Mail page's source: the Maildir the embedded mail catcher writes (`settings.mail_dir`).

Reads only, with the stdlib `mailbox`; callers run these functions in a thread (file I/O).
"""

from __future__ import annotations

import email
import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path


@dataclass(frozen=True)
class Mail:
    key: str
    subject: str
    to: str
    sender: str
    date: datetime
    body: str = ""


def list_mail(maildir: Path, limit: int = 200) -> list[Mail]:
    """The newest `limit` messages, newest first, without their bodies."""
    box = _open(maildir)
    if box is None:
        return []
    mails = [_summary(key, *_load(box, key)) for key in box.keys()]
    mails.sort(key=lambda mail: mail.date, reverse=True)
    return mails[:limit]


def read_mail(maildir: Path, key: str) -> Mail | None:
    """One message with its text body, or None when there is no such message."""
    box = _open(maildir)
    if box is None:
        return None
    try:
        message, delivered = _load(box, key)
    except KeyError:
        return None
    summary = _summary(key, message, delivered)
    return Mail(summary.key, summary.subject, summary.to, summary.sender, summary.date, _text(message))


def _open(maildir: Path) -> mailbox.Maildir | None:
    if not (maildir / "cur").is_dir():
        return None  # the mail catcher has not caught anything yet
    return mailbox.Maildir(maildir, create=False)


def _load(box: mailbox.Maildir, key: str) -> tuple[EmailMessage, datetime]:
    """The message (the modern policy decodes =?utf-8?...?= headers and bodies) and its delivery."""
    message = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
    delivered = datetime.fromtimestamp(box.get_message(key).get_date(), UTC)
    return message, delivered  # type: ignore[return-value]


def _summary(key: str, message: EmailMessage, delivered: datetime) -> Mail:
    return Mail(
        key=key,
        subject=str(message.get("Subject", "(no subject)")),
        to=str(message.get("To", "")),
        sender=str(message.get("From", "")),
        date=_date(message, delivered),
    )


def _date(message: EmailMessage, delivered: datetime) -> datetime:
    """The Date header, or the delivery time for mail without a readable one."""
    try:
        moment = parsedate_to_datetime(str(message["Date"])) if "Date" in message else delivered
    except (TypeError, ValueError):
        return delivered
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "(this message has no text part)"
    return str(part.get_content())
