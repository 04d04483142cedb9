"""Webhook signatures as a receiver checks them, against a test vector computed independently:

    printf '%s' '1767261600.{"company_id":"c-1","message_type":"staff-alert","notification_id":"n-1"}' \
        | openssl dgst -sha256 -hmac 'edih-webhook-test-secret'
"""

from __future__ import annotations

import pytest

from services.notifications.settings import NotificationSettings
from services.notifications.webhooks import (
    PermanentWebhookError,
    display,
    encode,
    find_receiver,
    signature,
    signed_headers,
    webhook_ref,
)

SECRET = "edih-webhook-test-secret"
TIMESTAMP = 1767261600
BODY = b'{"company_id":"c-1","message_type":"staff-alert","notification_id":"n-1"}'
EXPECTED = "d6e0de3b99667e61d16eaae81e76496111bbe133af140f1034313c0a6d541b91"


def test_the_signature_matches_the_independently_computed_vector():
    assert signature(SECRET, TIMESTAMP, BODY) == EXPECTED


def test_the_body_is_compact_sorted_json_so_the_vector_applies_to_what_is_sent():
    assert encode({"notification_id": "n-1", "message_type": "staff-alert", "company_id": "c-1"}) == BODY


def test_non_ascii_bodies_are_signed_as_utf8_bytes():
    # printf '%s' '1767261600.{"a":"é"}' | openssl dgst -sha256 -hmac 'edih-webhook-test-secret'
    assert signature(SECRET, TIMESTAMP, encode({"a": "é"})) == (
        "cd7b9908b2fde7aa05f887e008dd548ebe03f106e7cd017986699931e2d18abc"
    )


def test_the_headers_carry_timestamp_signature_and_a_stable_delivery_id():
    headers = signed_headers(SECRET, TIMESTAMP, BODY, "n-1#webhook-abc")
    assert headers["X-EDIH-Timestamp"] == "1767261600"
    assert headers["X-EDIH-Signature"] == f"sha256={EXPECTED}"
    assert headers["X-EDIH-Delivery"] == "n-1#webhook-abc"


@pytest.mark.parametrize("changed", [
    (SECRET + "x", TIMESTAMP, BODY), (SECRET, TIMESTAMP + 1, BODY), (SECRET, TIMESTAMP, BODY + b" "),
])
def test_any_change_of_secret_timestamp_or_body_changes_the_signature(changed):
    assert signature(*changed) != EXPECTED


def test_the_log_shows_where_a_webhook_went_without_its_secret_path():
    url = "https://user:pw@chat.example.org:8443/hooks/T0SECRET/B0SECRET"
    assert display(url) == "https://chat.example.org:8443"


def test_a_receiver_is_found_by_its_digest_and_a_removed_one_is_permanent():
    url = "http://127.0.0.1:9/hook"
    settings = NotificationSettings(notification_webhooks={"staff-alert": [url]})
    assert find_receiver(settings, "staff-alert", webhook_ref(url)) == url
    with pytest.raises(PermanentWebhookError):
        find_receiver(settings, "staff-escalation", webhook_ref(url))


def test_production_refuses_webhooks_signed_with_the_development_secret():
    production = {"environment": "production", "jwt_secret": "k" * 40, "console_admin_password": "x" * 12,
                  "database_url": "postgresql://db/edih"}
    hooks = {"staff-alert": ["https://chat.example/hook"]}
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        NotificationSettings(**production, notification_webhooks=hooks)
    NotificationSettings(**production, notification_webhooks=hooks,
                         notification_webhook_secret="s" * 40).check()
    NotificationSettings(**production).check()  # no webhooks, no secret needed
