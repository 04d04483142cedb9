"""Deployment settings, read from the environment with the `EDIH_` prefix (pydantic-settings).

One `Settings` object describes one deployment of one hub: only what is deployment-wide (Kafka,
Temporal, databases, auth, the mail server's address, the calendar, where each service is found).
Each service owns a subclass in its own `settings.py` with its section (`intake_*`, ...), and its
own checks (`problems`); `Settings.of` makes a service's settings from the deployment's. Every
service takes settings as an argument (never a module global), so tests build their own with other
ports, databases and clocks. `hub_name` is the hub's name as the companies read it.

Where a service is found: `EDIH_SERVICE_URLS` (a JSON object, service name -> base URL) over the
default ports the services register (`register_service_ports`, done by `services/__init__.py`);
`EDIH_<SERVICE>_URL` of a registered service still works, below `EDIH_SERVICE_URLS`.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

DEV_SECRET = "edih-local-development-secret-change-me"
# RFC 7518 (3.2): an HMAC key at least as long as the hash output.
HMAC_MINIMUM_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

# Service name -> the port it listens on unless `EDIH_SERVICE_URLS` says otherwise; filled by the
# services' own package (`register_service_ports`), so this library names none of them.
SERVICE_PORTS: dict[str, int] = {}


def register_service_ports(ports: Mapping[str, int]) -> None:
    """Declare services and their default ports (http://127.0.0.1:<port> unless configured)."""
    SERVICE_PORTS.update(ports)


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

    # HTTP: where each service is found (name -> base URL, over the registered default ports), e.g.
    # EDIH_SERVICE_URLS='{"intake": "https://intake.hub.example"}'; a service listens on the port of
    # its own URL.
    bind_host: str = "127.0.0.1"
    service_urls: dict[str, str] = Field(default_factory=dict)

    # Auth: JWT bearer tokens signed with the hub's key.
    jwt_secret: str = DEV_SECRET
    jwt_algorithm: str = "HS256"
    token_ttl_minutes: int = 60 * 12

    # E-mail: the hub's mail server (notifications sends to it; `edih up` runs a mail catcher on
    # its port), the sender, and the Maildir of the embedded catcher (the console shows it).
    # TLS and login to the server are notifications' settings.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    mail_from: str = "EDIH Noord-Nederland <noreply@edih-noord.nl>"
    mail_catcher_dir: Path | None = None

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

    log_level: str = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _take_service_url_variables(cls, data: Any) -> Any:
        """`EDIH_<SERVICE>_URL` (the variables from before `EDIH_SERVICE_URLS`) of each registered
        service, below `EDIH_SERVICE_URLS` and values given."""
        named = {name: url for name in SERVICE_PORTS
                 if (url := os.environ.get(f"EDIH_{name.upper()}_URL"))}
        if named and isinstance(data, dict):
            data = {**data, "service_urls": {**named, **(data.get("service_urls") or {})}}
        return data

    @classmethod
    def of(cls, settings: Settings, **overrides: Any) -> Self:
        """This class of settings from `settings` (a service's from the deployment's): the values of
        `settings`, then `overrides`, win over the environment, which fills the fields `settings`
        lacks; checked again (so settings copied with changes, which skipped validation, are too)."""
        return cls(**{**settings.model_dump(), **overrides})

    @model_validator(mode="after")
    def _refuse_inconsistent_values(self) -> Settings:
        self.check()
        return self

    def check(self) -> None:
        """Refuse inconsistent or unsafe values, all at once, one line per problem (ValueError):
        run when settings are made, so also by `of`, which each service's `create_app` calls (settings
        copied with `model_copy` skipped the validators)."""
        problems = self.problems()
        if problems:
            # One line per problem: `describe_settings_error` prints them as they are.
            raise ValueError("\n".join(problems))

    def problems(self) -> list[str]:
        """What is wrong with these settings, one line each. A service's subclass adds its own:
        `return [*super().problems(), *mine]`."""
        return [*self._production_problems(), *self._kafka_problems(), *self._temporal_problems()]

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
        if self.database_url is None:
            problems.append("EDIH_DATABASE_URL (PostgreSQL) is required in production")
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
        """The base URL of `service`: from `EDIH_SERVICE_URLS`, else on its registered port."""
        url = self.service_urls.get(service)
        if url is None:
            if service not in SERVICE_PORTS:
                raise KeyError(f"no URL for the service {service!r}: not in EDIH_SERVICE_URLS, and no "
                               "default port registered (services/__init__.py)")
            url = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
        return url.rstrip("/")

    def port_of(self, service: str) -> int:
        """The port `service` listens on: the one of its URL."""
        url = urlsplit(self.url_of(service))
        return url.port or SERVICE_PORTS.get(service) or (443 if url.scheme == "https" else 80)

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


S = TypeVar("S", bound=Settings)


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


def settings_from_environment(kind: type[S] = Settings) -> S:  # type: ignore[assignment]
    """The settings of `kind` (a service's class) from the environment; on a configuration error,
    one line per problem and exit 2."""
    try:
        return kind()
    except (ValidationError, SourceError) as error:
        for line in describe_settings_error(error):
            print(f"configuration error: {line}", file=sys.stderr)
        raise SystemExit(2) from None
