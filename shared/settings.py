"""Deployment settings, read from the environment with the `EDIH_` prefix (pydantic-settings).

One `Settings` object describes one deployment of one hub. Every service takes it as an argument
(never a module global), so tests build their own with other ports, databases and clocks.
`hub_name` is the hub's name as the companies read it, on mail and on pages.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

DEV_SECRET = "edih-local-development-secret-change-me"
DEV_WEBHOOK_SECRET = "edih-local-webhook-secret-change-me"
# RFC 7518 (3.2): an HMAC key at least as long as the hash output.
HMAC_MINIMUM_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

SERVICE_PORTS = {
    "console": 8100,
    "intake": 8101,
    "training": 8102,
    "financing": 8103,
    "notifications": 8104,
    "network": 8105,
    "journey": 8106,
}


class Settings(BaseSettings):
    """Everything a service needs to know about the deployment it runs in."""

    model_config = SettingsConfigDict(env_prefix="EDIH_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    hub_id: str = Field("nl-noord", pattern=r"^[a-z]{2}-[a-z0-9-]+$")
    data_dir: Path = Path(".edih")

    # Kafka. The embedded Tansu broker refuses the idempotent producer; Apache Kafka takes it.
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_idempotence: bool = False
    kafka_topic_partitions: int = Field(3, ge=1)
    # Copies of each topic the platform creates: 1 on the embedded broker, 3 on a production cluster.
    kafka_replication_factor: int = Field(1, ge=1)
    # How the clients reach the cluster: TLS (SSL), SASL authentication, or both (SASL_SSL).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # TLS: the CA that signed the brokers' certificates (the system's CAs when unset), and a client
    # certificate and key for mutual TLS (the key may also be inside the certificate file).
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    # Prepended to every topic and consumer group: lets tests (or hubs sharing one cluster) keep
    # their traffic apart. Empty in a normal deployment.
    topic_prefix: str = ""
    # A consumer group's session timeout; the broker holds a first join for half of it, so a
    # short one starts consumers faster (tests), a long one rides out pauses (production).
    kafka_session_timeout_ms: int = 10_000
    # Event consumers (shared/inbox/). A record whose handler fails with an error that is not a
    # dependency being unavailable is delivered this many times, then dead-lettered; an unavailable
    # dependency (database, Temporal, a service) is retried without limit. Between deliveries the
    # consumer waits, doubling from the base up to the cap: the cap stays well below aiokafka's
    # max_poll_interval_ms (5 minutes), so a consumer that waits stays in its group.
    consumer_attempts: int = Field(8, ge=1)
    consumer_retry_base_seconds: float = Field(0.5, gt=0)
    consumer_retry_cap_seconds: float = Field(30.0, gt=0, le=120)
    # How often each consumer measures its lag: end offset minus committed offset per partition.
    kafka_lag_interval_seconds: float = Field(15.0, gt=0)

    # Temporal.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "edih-journey"
    temporal_ui_port: int = 8233  # the Web UI of the embedded dev server (`make up`)
    # TLS to the cluster (the system's CAs unless a CA file is given), a client certificate and key
    # for mutual TLS, or an API key (Temporal Cloud), which is only ever sent over TLS.
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_api_key: SecretStr | None = None

    # Databases: SQLite files under data_dir unless a URL is given. A PostgreSQL URL is shared by
    # all services, each in its own schema (the service's name).
    database_url: str | None = None

    # HTTP: where each service is found; a service listens on the port of its own URL.
    bind_host: str = "127.0.0.1"
    console_url: str = "http://127.0.0.1:8100"
    intake_url: str = "http://127.0.0.1:8101"
    notifications_url: str = "http://127.0.0.1:8104"
    journey_url: str = "http://127.0.0.1:8106"

    # Auth: JWT bearer tokens signed with the hub's key.
    jwt_secret: str = DEV_SECRET
    jwt_algorithm: str = "HS256"
    token_ttl_minutes: int = 60 * 12

    # E-mail. Implicit TLS (`smtp_tls`, usually port 465) or STARTTLS (`smtp_starttls`, usually
    # 587), never both. A login without either sends the password in the clear: refused outside
    # development unless `smtp_allow_plain_auth` says the network to the server is trusted.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_allow_plain_auth: bool = False
    # A PEM bundle of the CAs to trust for the mail server's certificate (the system's when unset).
    smtp_ca_file: Path | None = None
    mail_from: str = "EDIH Noord-Nederland <noreply@edih-noord.nl>"

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

    # Clock and calendar: a fixed moment for demos and tests, business hours that can be switched off.
    clock_fixed_at: datetime | None = None
    business_hours_enabled: bool = True
    business_timezone: str = "Europe/Amsterdam"
    business_day_start: str = "08:30"
    business_day_end: str = "17:30"
    hub_closing_days: list[str] = Field(default_factory=list)

    # Outbox relay.
    relay_interval_seconds: float = 0.2
    relay_batch_size: int = 500
    broker_check_interval_seconds: float = 5.0

    # Console sign-in: the first administrator, created on start when no staff account exists.
    console_admin_email: str = "admin@edih.local"
    console_admin_password: str = "admin"
    mail_catcher_dir: Path | None = None

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_inconsistent_values(self) -> Settings:
        self.check()
        return self

    def check(self) -> None:
        """Refuse inconsistent or unsafe values, all at once, one line per problem (ValueError):
        run when settings are made, and again by whoever takes settings copied with changes
        (`model_copy` skips validators)."""
        problems = [*self._production_problems(), *self._smtp_problems(), *self._kafka_problems(),
                    *self._temporal_problems()]
        if problems:
            # One line per problem: `describe_settings_error` prints them as they are.
            raise ValueError("\n".join(problems))

    def _production_problems(self) -> list[str]:
        if self.environment != "production":
            return []
        problems = []
        if self.jwt_secret == DEV_SECRET:
            problems.append("EDIH_JWT_SECRET must be set to the hub's own key in production")
        elif (minimum := HMAC_MINIMUM_BYTES.get(self.jwt_algorithm)) is not None:
            length = len(self.jwt_secret.encode())
            if length < minimum:
                problems.append(f"EDIH_JWT_SECRET has {length} bytes; {self.jwt_algorithm} needs at "
                                f"least {minimum} in production (e.g. `openssl rand -hex 32`)")
        if self.console_admin_password == "admin":
            problems.append("EDIH_CONSOLE_ADMIN_PASSWORD must be changed in production")
        if self.database_url is None:
            problems.append("EDIH_DATABASE_URL (PostgreSQL) is required in production")
        if self.notification_webhooks and self.notification_webhook_secret == DEV_WEBHOOK_SECRET:
            problems.append("EDIH_NOTIFICATION_WEBHOOK_SECRET must be set when webhooks are configured "
                            "in production")
        return problems

    def _kafka_problems(self) -> list[str]:
        protocol = self.kafka_security_protocol
        problems = _missing_files(self, "kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
        if protocol.startswith("SASL_"):
            if not self.kafka_sasl_username or not self.kafka_sasl_password:
                problems.append(f"EDIH_KAFKA_SECURITY_PROTOCOL={protocol} needs EDIH_KAFKA_SASL_USERNAME "
                                "and EDIH_KAFKA_SASL_PASSWORD")
        elif self.kafka_sasl_username or self.kafka_sasl_password:
            problems.append(f"EDIH_KAFKA_SASL_USERNAME/PASSWORD are set but EDIH_KAFKA_SECURITY_PROTOCOL "
                            f"is {protocol}: use SASL_PLAINTEXT or SASL_SSL")
        if not protocol.endswith("SSL"):
            problems += [f"{_env(name)} is set but EDIH_KAFKA_SECURITY_PROTOCOL is {protocol}: "
                         "use SSL or SASL_SSL"
                         for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
                         if getattr(self, name) is not None]
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            problems.append("EDIH_KAFKA_SSL_KEYFILE needs EDIH_KAFKA_SSL_CERTFILE (the client certificate)")
        return problems

    def _temporal_problems(self) -> list[str]:
        problems = _missing_files(
            self, "temporal_tls_ca_file", "temporal_tls_cert_file", "temporal_tls_key_file"
        )
        if not self.temporal_tls:
            problems += [f"{_env(name)} is set but EDIH_TEMPORAL_TLS is false: set EDIH_TEMPORAL_TLS=true"
                         for name in ("temporal_tls_ca_file", "temporal_tls_cert_file",
                                      "temporal_tls_key_file", "temporal_api_key")
                         if getattr(self, name) is not None]
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            problems.append("EDIH_TEMPORAL_TLS_CERT_FILE and EDIH_TEMPORAL_TLS_KEY_FILE go together "
                            "(mutual TLS needs both)")
        return problems

    def url_of(self, service: str) -> str:
        """The base URL of `service` (its `EDIH_<SERVICE>_URL`)."""
        return str(getattr(self, f"{service}_url")).rstrip("/")

    def port_of(self, service: str) -> int:
        """The port `service` listens on: the one of its URL."""
        return urlsplit(self.url_of(service)).port or SERVICE_PORTS[service]

    def topic(self, name: str) -> str:
        """A topic or consumer group name as this deployment spells it."""
        return f"{self.topic_prefix}{name}"

    def database_url_for(self, service: str) -> str:
        """The SQLAlchemy async URL of `service`'s own database."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}"

    @property
    def mail_dir(self) -> Path:
        """The Maildir the embedded mail catcher writes and the console reads."""
        return self.mail_catcher_dir or self.data_dir / "mail"

    # Notifications (issue 5). Reminders a company gets per business day; the rest wait a day.
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
    # (notifications_url when unset).
    notification_unsubscribe_ttl_days: int = Field(180, ge=1)
    notification_public_url: str | None = None

    # Journey (issue 4). Every duration of the CompanyJourney is a setting, so a demo can compress
    # months into minutes (ISO 8601 durations or seconds, e.g. EDIH_JOURNEY_FOLLOW_UP_AFTER=PT3M).
    # An intake not scheduled this many business days (hub calendar) after admission alerts the
    # advisor; `journey_intake_alert_after`, when set, replaces the business days by a plain duration.
    journey_intake_alert_business_days: int = Field(5, ge=1)
    journey_intake_alert_after: timedelta | None = None
    # After the questionnaire invitation: reminders to the company, then escalation to the advisor.
    journey_questionnaire_reminders: list[timedelta] = Field(
        default_factory=lambda: [timedelta(days=7), timedelta(days=14)]
    )
    journey_questionnaire_escalation_after: timedelta = timedelta(days=21)
    # Follow-up: the T1 invitation this long after the last service ended, reminders after the
    # invitation, and the window after which the journey closes without follow-up.
    journey_follow_up_after: timedelta = timedelta(days=183)
    journey_follow_up_reminders: list[timedelta] = Field(
        default_factory=lambda: [timedelta(days=7), timedelta(days=14)]
    )
    journey_follow_up_window: timedelta = timedelta(days=60)
    # How long an ended journey still records late facts before its workflow completes.
    journey_keep_after_end: timedelta = timedelta(days=90)
    # The advisor (a console staff account id) of a region until intake names one, e.g.
    # EDIH_JOURNEY_DEFAULT_ADVISORS='{"drenthe": "7", "groningen": "8", "friesland": "8"}'.
    journey_default_advisors: dict[str, str] = Field(default_factory=dict)
    # Continue-as-new when the history has this many events (Temporal also suggests it itself).
    journey_history_threshold: int = Field(10_000, ge=10)
    # Attempts at fetching a questionnaire link from intake before a message goes without it.
    journey_link_attempts: int = Field(5, ge=1)

    # Intake (issue 3). The cohort's quota pools: places per pool, and the regions each pool serves.
    intake_pool_sizes: dict[str, int] = Field(
        default_factory=lambda: {"drenthe": 80, "groningen-friesland": 80}
    )
    intake_pool_regions: dict[str, list[str]] = Field(
        default_factory=lambda: {"drenthe": ["drenthe"], "groningen-friesland": ["groningen", "friesland"]}
    )
    # The questionnaire invitation link: how long it works, and the public base URL it points to
    # (intake_url when unset).
    intake_questionnaire_link_ttl_days: int = Field(42, ge=1)
    intake_public_url: str | None = None


def hub_name(settings: Settings) -> str:
    """The hub's name as its mail signs and its pages show it: the display name of `mail_from`."""
    return parseaddr(settings.mail_from)[0] or "EDIH"


def _env(field: str) -> str:
    return f"EDIH_{field.upper()}"


def _missing_files(settings: Settings, *fields: str) -> list[str]:
    return [f"{_env(name)}: no file at {path}" for name in fields
            if (path := getattr(settings, name)) is not None and not path.is_file()]


def describe_settings_error(error: ValidationError | SourceError) -> list[str]:
    """One readable line per configuration problem, naming the environment variable."""
    if isinstance(error, SourceError):  # a list or mapping whose value is not even JSON
        named = re.search(r'field "(\w+)"', str(error))
        return [f"{_env(named[1])}: not valid JSON" if named else str(error)]
    lines = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        field, *rest = [*problem["loc"], ""]
        where = _env(str(field)) + "".join(f"[{part}]" for part in rest if part != "")
        lines += [f"{where}: {line}" if field else line for line in message.splitlines()]
    return lines


def settings_from_environment() -> Settings:
    """The deployment's settings; on a configuration error, one line per problem and exit 2."""
    try:
        return Settings()
    except (ValidationError, SourceError) as error:
        for line in describe_settings_error(error):
            print(f"configuration error: {line}", file=sys.stderr)
        raise SystemExit(2) from None
