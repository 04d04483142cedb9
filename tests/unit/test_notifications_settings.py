"""The mail settings a deployment starts with: SMTP security that cannot work or would leak the
password is refused at start with a clear message; the mail catcher of `edih up` writes where the
console reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from edih.settings import PlatformSettings
from edih.stack import Stack
from services.notifications.app import create_app
from services.notifications.settings import NotificationSettings
from shared.settings import Settings

PRODUCTION = {
    "environment": "production", "jwt_secret": "the-hubs-own-key-of-at-least-32-bytes",
    "console_admin_password": "s3cret",
    "database_url": "postgresql://edih@db/edih",
}


def test_implicit_tls_and_starttls_together_are_refused():
    with pytest.raises(ValidationError, match="EDIH_SMTP_TLS and EDIH_SMTP_STARTTLS exclude each other"):
        NotificationSettings(smtp_tls=True, smtp_starttls=True)


def test_a_login_without_tls_is_refused_in_production_unless_allowed():
    with pytest.raises(ValidationError, match="password would cross the network in the clear"):
        NotificationSettings(**PRODUCTION, smtp_username="edih", smtp_password="pw")
    # Accepted as given: the login kept, with the transport that was asked for.
    login = {"smtp_username": "edih", "smtp_password": "pw"}
    allowed = NotificationSettings(**PRODUCTION, **login, smtp_allow_plain_auth=True)
    transport = {"smtp_username", "smtp_allow_plain_auth", "smtp_tls", "smtp_starttls"}
    assert allowed.model_dump(include=transport) == {
        "smtp_username": "edih", "smtp_allow_plain_auth": True, "smtp_tls": False, "smtp_starttls": False}
    for secure in ({"smtp_starttls": True}, {"smtp_tls": True}):
        settings = NotificationSettings(**PRODUCTION, **login, **secure)
        assert settings.smtp_username == "edih" and settings.smtp_allow_plain_auth is False
        assert settings.model_dump(include=set(secure)) == secure
    # No login, nothing to leak: production without TLS and without a login starts.
    unsecured = NotificationSettings(**PRODUCTION)
    assert unsecured.model_dump(include={"smtp_username", "smtp_tls", "smtp_starttls"}) == {
        "smtp_username": None, "smtp_tls": False, "smtp_starttls": False}


def test_development_may_log_in_to_a_local_server_without_tls():
    assert NotificationSettings(smtp_username="edih", smtp_password="pw").smtp_username == "edih"


def test_the_service_refuses_to_start_on_settings_changed_after_validation(tmp_path: Path):
    # model_copy skips validators; the service checks again when it is built.
    valid = NotificationSettings(data_dir=tmp_path)
    both = valid.model_copy(update={"smtp_tls": True, "smtp_starttls": True})
    with pytest.raises(ValueError, match="exclude each other"):
        create_app(both)


@pytest.mark.parametrize(("configured", "expected"),
                         [(None, "edih/mail"), ("catcher/inbox", "catcher/inbox")])
def test_the_mail_catcher_writes_where_the_console_reads(configured, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stack = Stack(PlatformSettings(data_dir=Path("edih"), mail_catcher_dir=configured))
    (mail,) = [c for c in stack.components if c.name == "mail"]
    written = Path(mail.command[mail.command.index("--maildir") + 1])
    # The console is a child of the stack: it reads its settings from the environment it is given.
    for name, value in stack.child_environment().items():
        monkeypatch.setenv(name, value)
    assert written == Settings().mail_dir == tmp_path / expected
