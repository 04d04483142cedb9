"""Notifications' settings: the deployment's (`Settings`) and its own section: `EDIH_NOTIFICATION_*`,
and how it reaches the mail server (`EDIH_SMTP_*` beyond the server's address), with their checks."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import Settings

DEV_WEBHOOK_SECRET = "edih-local-webhook-secret-change-me"


class NotificationSettings(Settings):
    """Reminder caps, delivery retries, webhooks, alerts, unsubscribe links, and SMTP security."""

    # Implicit TLS (`smtp_tls`, usually port 465) or STARTTLS (`smtp_starttls`, usually 587), never
    # both. A login without either sends the password in the clear: refused outside development
    # unless `smtp_allow_plain_auth` says the network to the server is trusted.
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_allow_plain_auth: bool = False
    # A PEM bundle of the CAs to trust for the mail server's certificate (the system's when unset).
    smtp_ca_file: Path | None = None

    # Reminders a company gets per business day; the rest wait a day.
    notification_max_reminders_per_day: int = Field(2, ge=1)
    # Attempts at one delivery before it is marked failed (staff are alerted), and the backoff.
    notification_max_attempts: int = Field(20, ge=1)
    notification_retry_base_seconds: float = Field(1.0, gt=0)
    notification_retry_cap_seconds: float = Field(600.0, gt=0)
    # How long a sender holds a delivery it is attempting: longer than a recipient look-up, a
    # render and an SMTP or webhook timeout together. After it another sender may take it again.
    notification_claim_seconds: float = Field(120.0, gt=0)
    # Webhooks for staff tools: message type -> receiver URLs, e.g.
    # EDIH_NOTIFICATION_WEBHOOKS='{"staff-alert": ["https://chat.example/hook"]}'. Each request of
    # that type is also POSTed, signed with the secret, to every URL listed.
    notification_webhooks: dict[str, list[str]] = Field(default_factory=dict)
    notification_webhook_secret: str = DEV_WEBHOOK_SECRET
    # Staff accounts (console ids) e-mailed when a delivery fails for good; when empty, the
    # console's staff of the company's region, else the hub's administrators.
    notification_alert_staff_ids: list[str] = Field(default_factory=list)
    # Unsubscribe links: how long they work, and the public base URL they point to
    # (notifications' URL when unset).
    notification_unsubscribe_ttl_days: int = Field(180, ge=1)
    notification_public_url: str | None = None

    def problems(self) -> list[str]:
        problems = super().problems()
        if (self.environment == "production" and self.notification_webhooks
                and self.notification_webhook_secret == DEV_WEBHOOK_SECRET):
            problems.append("EDIH_NOTIFICATION_WEBHOOK_SECRET must be set when webhooks are configured "
                            "in production")
        return [*problems, *self._smtp_problems()]

    def _smtp_problems(self) -> list[str]:
        """SMTP settings that fail at every send or leak the password."""
        problems = []
        if self.smtp_tls and self.smtp_starttls:
            problems.append("EDIH_SMTP_TLS and EDIH_SMTP_STARTTLS exclude each other: set EDIH_SMTP_TLS "
                            "for implicit TLS (port 465) or EDIH_SMTP_STARTTLS (port 587), not both")
        plain = self.smtp_username and not (self.smtp_tls or self.smtp_starttls)
        if plain and self.environment != "development" and not self.smtp_allow_plain_auth:
            problems.append("EDIH_SMTP_USERNAME is set without EDIH_SMTP_TLS or EDIH_SMTP_STARTTLS: the "
                            "password would cross the network in the clear; enable one of them, or set "
                            "EDIH_SMTP_ALLOW_PLAIN_AUTH=true for a trusted network")
        return problems
