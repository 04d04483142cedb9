"""E-mail over an encrypted, authenticated connection, against a real SMTP server (aiosmtpd) on
loopback with a certificate made for the test: STARTTLS with a login, and implicit TLS. The
message arrives, over TLS, and the server saw the login; an untrusted certificate gets no password,
and a refused login fails the message at once."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from shared.settings import Settings
from tests.integration import test_notifications_delivery as support
from tests.integration.test_notifications_delivery import (
    Intake,
    MailServer,
    new_company,
    run_notifications,
)
from tests.support.waiting import eventually

intake = support.intake
USER, PASSWORD = "edih-mailer", "a-mail-password"


@dataclass
class Accounts:
    """The server's one account; records every login attempt and whether it was over TLS."""

    logins: list[tuple[str, bool]] = field(default_factory=list)

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        # For STARTTLS and implicit TLS alike, the transport the login came over is encrypted.
        self.logins.append((data.login.decode(), server.transport.get_extra_info("ssl_object") is not None))
        # handled=False: aiosmtpd answers a refusal itself (535).
        return AuthResult(success=(data.login.decode(), data.password.decode()) == (USER, PASSWORD),
                          handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "mail-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def starttls_server(ca: trustme.CA, accounts: Accounts) -> MailServer:
    """A server that offers STARTTLS and requires it, and a login, before it takes a message."""
    return MailServer(tls_context=server_context(ca), require_starttls=True, authenticator=accounts,
                      auth_required=True)


async def welcome(
    settings: Settings, mail: MailServer, intake: Intake, until: str, **smtp: Any
) -> tuple[dict[str, Any], list[EmailMessage]]:
    """Request a welcome through the service with the `smtp` settings, and wait until its delivery
    is `sent`, has failed an attempt (`attempted`) or is `failed`; its log row and what arrived."""
    await intake.start()
    await mail.start()
    try:
        async with run_notifications(settings, mail, intake, **smtp) as service:
            company_id, email = new_company(intake)
            await service.request_welcome(company_id, f"welcome-{company_id}")

            async def reached() -> dict[str, Any] | None:
                rows = await service.deliveries(company_id)
                if not rows:
                    return None
                done = rows[0]["attempts"] >= 1 if until == "attempted" else rows[0]["status"] == until
                return rows[0] if done else None

            row = await eventually(reached, message=f"the welcome {until}")
            return row, mail.to(email)
    finally:
        await mail.stop()
        await intake.stop()


async def test_a_message_goes_over_starttls_with_the_configured_login(settings, intake, ca, ca_file):
    accounts = Accounts()
    row, (message,) = await welcome(settings, starttls_server(ca, accounts), intake, "sent",
                                    smtp_starttls=True, smtp_username=USER, smtp_password=PASSWORD,
                                    smtp_ca_file=ca_file)
    assert message["Subject"] == "Welkom bij EDIH Noord-Nederland" and row["attempts"] == 1
    assert accounts.logins == [(USER, True)], "one login, after STARTTLS"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_a_message_goes_over_implicit_tls_with_the_configured_login(settings, intake, ca, ca_file):
    accounts = Accounts()
    # aiosmtpd counts only STARTTLS as TLS for its AUTH rule; this connection is TLS from the start.
    mail = MailServer(ssl_context=server_context(ca), authenticator=accounts, auth_required=True,
                      auth_require_tls=False)
    row, (message,) = await welcome(settings, mail, intake, "sent", smtp_tls=True, smtp_username=USER,
                                    smtp_password=PASSWORD, smtp_ca_file=ca_file)
    assert message["Subject"] == "Welkom bij EDIH Noord-Nederland" and row["attempts"] == 1
    assert accounts.logins == [(USER, True)], "one login, over TLS"


async def test_a_mail_server_whose_certificate_is_not_trusted_gets_nothing(settings, intake, ca, tmp_path):
    other = tmp_path / "another-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    accounts = Accounts()
    row, arrived = await welcome(settings, starttls_server(ca, accounts), intake, "attempted",
                                 smtp_starttls=True, smtp_username=USER, smtp_password=PASSWORD,
                                 smtp_ca_file=other)
    assert row["status"] == "pending" and "certificate" in row["last_error"].lower()
    assert accounts.logins == [] and arrived == [], "no password sent to an unverified server"


async def test_a_refused_login_fails_the_message_at_once(settings, intake, ca, ca_file):
    accounts = Accounts()
    row, arrived = await welcome(settings, starttls_server(ca, accounts), intake, "failed",
                                 smtp_starttls=True, smtp_username=USER, smtp_password="not-the-password",
                                 smtp_ca_file=ca_file)
    assert row["attempts"] == 1 and "535" in row["last_error"] and arrived == []
    assert set(accounts.logins) == {(USER, True)}, "tried (each method the server offers), over TLS"


async def test_a_server_without_starttls_gets_no_password_and_fails_the_message_at_once(settings, intake):
    # EDIH_SMTP_STARTTLS asks for STARTTLS; this server does not offer it: only settings can fix that.
    accounts = Accounts()
    row, arrived = await welcome(settings, MailServer(authenticator=accounts, auth_require_tls=False),
                                 intake, "failed", smtp_starttls=True, smtp_username=USER,
                                 smtp_password=PASSWORD)
    assert row["attempts"] == 1 and "STARTTLS" in row["last_error"] and arrived == []
    assert accounts.logins == [], "no password sent in the clear"
