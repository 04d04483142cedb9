"""Unsubscribe links: signed, expiring, for one recipient, and useless as anything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from services.notifications import unsubscribe
from shared.auth import decode_token, issue_token
from shared.contracts.notifications import RecipientRef
from shared.settings import Settings

REF = RecipientRef(service="intake", kind="primary-contact", id="company-1")
NOW = datetime.now(UTC)


def token(settings: Settings, now: datetime = NOW) -> str:
    return unsubscribe.issue(settings, REF, company_id="company-1", language="en",
                             notification_id="n-1", now=now)


def test_a_link_names_the_recipient_by_reference_and_the_language_to_answer_in():
    settings = Settings(notification_public_url="https://mail.edih.example/")
    link = unsubscribe.link(settings, token(settings))
    assert link.startswith("https://mail.edih.example/unsubscribe?token=")
    request = unsubscribe.read(settings, parse_qs(urlsplit(link).query)["token"][0])
    assert request.recipient == REF and request.company_id == "company-1"
    assert (request.language, request.notification_id) == ("en", "n-1")
    assert "@" not in link


def test_an_expired_link_is_refused():
    settings = Settings(notification_unsubscribe_ttl_days=30)
    with pytest.raises(jwt.ExpiredSignatureError):
        unsubscribe.read(settings, token(settings, NOW - timedelta(days=31)))
    unsubscribe.read(settings, token(settings, NOW - timedelta(days=29)))


def test_a_link_signed_with_another_key_or_for_another_hub_is_refused():
    with pytest.raises(jwt.InvalidSignatureError):
        unsubscribe.read(Settings(), token(Settings(jwt_secret="another-key-of-enough-length-0123456789")))
    with pytest.raises(jwt.InvalidTokenError):
        unsubscribe.read(Settings(), token(Settings(hub_id="nl-zuid")))


def test_a_staff_token_is_no_unsubscribe_link_and_an_unsubscribe_link_opens_no_api():
    settings = Settings()
    with pytest.raises(jwt.InvalidTokenError):
        unsubscribe.read(settings, issue_token(settings, "staff@edih.local", "admin"))
    with pytest.raises(jwt.InvalidTokenError):
        decode_token(settings, token(settings))
