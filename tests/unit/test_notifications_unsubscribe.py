"""The links of opt-outs: signed, expiring, for one recipient (and the person, by a keyed digest of
their address, never the address), each good for its own purpose and useless as anything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from services.notifications import unsubscribe
from services.notifications.domain import address_digest
from services.notifications.settings import NotificationSettings
from shared.auth import decode_token, issue_token
from shared.contracts.notifications import RecipientRef
from shared.settings import Settings

REF = RecipientRef(service="intake", kind="primary-contact", id="company-1")
NOW = datetime.now(UTC)
DIGEST = "ab" * 32


def token(settings: Settings, now: datetime = NOW) -> str:
    return unsubscribe.issue(settings, REF, company_id="company-1", language="en",
                             notification_id="n-1", now=now, address_digest=DIGEST, region="drenthe")


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def test_a_link_names_the_recipient_by_reference_the_person_by_digest_and_the_region():
    settings = NotificationSettings(notification_public_url="https://mail.edih.example/")
    link = unsubscribe.link(settings, token(settings))
    assert link.startswith("https://mail.edih.example/unsubscribe?token=")
    request = unsubscribe.read(settings, token_of(link))
    assert request.recipient == REF and request.company_id == "company-1"
    assert (request.language, request.notification_id) == ("en", "n-1")
    assert (request.address_digest, request.region) == (DIGEST, "drenthe")
    assert "@" not in link


def test_a_link_sent_before_links_named_the_person_reads_without_one():
    settings = NotificationSettings()
    # The claims of the links the service sent before they carried a digest and a region.
    old = jwt.encode({"purpose": "unsubscribe", "hub": settings.hub_id, "svc": "intake",
                      "kind": "primary-contact", "rid": "company-1", "cid": "company-1", "lang": "nl",
                      "nid": "n-0", "exp": int((NOW + timedelta(days=1)).timestamp())},
                     settings.jwt_secret, algorithm=settings.jwt_algorithm)
    request = unsubscribe.read(settings, old)
    assert request.recipient == REF and request.notification_id == "n-0"
    assert (request.address_digest, request.region) == (None, None)


def test_a_resubscribe_link_carries_the_person_and_serves_for_nothing_else():
    settings = NotificationSettings(notification_public_url="https://mail.edih.example")
    request = unsubscribe.read(settings, token(settings))
    link = unsubscribe.resubscribe_link(settings, unsubscribe.resubscribe_token(
        settings, request, person="role", now=NOW))
    assert link.startswith("https://mail.edih.example/resubscribe?token=")
    again = unsubscribe.read(settings, token_of(link), unsubscribe.RESUBSCRIBE)
    assert (again.recipient, again.company_id, again.notification_id) == (REF, "company-1", "n-1")
    assert (again.address_digest, again.language) == ("role", "en")
    with pytest.raises(jwt.InvalidTokenError):
        unsubscribe.read(settings, token_of(link))  # no unsubscribe link
    with pytest.raises(jwt.InvalidTokenError):
        unsubscribe.read(settings, token(settings), unsubscribe.RESUBSCRIBE)


def test_an_expired_link_is_refused():
    settings = NotificationSettings(notification_unsubscribe_ttl_days=30)
    with pytest.raises(jwt.ExpiredSignatureError):
        unsubscribe.read(settings, token(settings, NOW - timedelta(days=31)))
    unsubscribe.read(settings, token(settings, NOW - timedelta(days=29)))


def test_a_link_signed_with_another_key_or_for_another_hub_is_refused():
    with pytest.raises(jwt.InvalidSignatureError):
        other_key = NotificationSettings(jwt_secret="another-key-of-enough-length-0123456789")
        unsubscribe.read(NotificationSettings(), token(other_key))
    with pytest.raises(jwt.InvalidTokenError):
        unsubscribe.read(NotificationSettings(), token(NotificationSettings(hub_id="nl-zuid")))


def test_a_staff_token_is_no_unsubscribe_link_and_an_unsubscribe_link_opens_no_api():
    settings = NotificationSettings()
    with pytest.raises(jwt.InvalidTokenError):
        unsubscribe.read(settings, issue_token(settings, "staff@edih.local", "admin"))
    with pytest.raises(jwt.InvalidTokenError):
        decode_token(settings, token(settings))


def test_the_address_digest_is_hmac_sha256_with_the_key_over_the_address_in_lower_case():
    key = "a-hub-signing-key-of-enough-length-0123456789"
    # printf '%s' anna@example.nl | openssl dgst -sha256 -hmac "$key"
    expected = "e8497368a285fe8339542d61ec308c5b56ba2ea48783f63cedbaf04674bedaae"
    assert address_digest(key, "anna@example.nl") == expected
    assert address_digest(key, " Anna@Example.NL ") == expected, "one person, however it is typed"
    assert address_digest(key, "bob@example.nl") != expected
    assert address_digest("another-key-of-enough-length-0123456789", "anna@example.nl") != expected
