"""Deployment settings: production refuses weak or placeholder secrets, inconsistent Kafka and
Temporal security is refused with a line naming each problem, and a service or `edih` that starts
with bad settings prints those lines (no traceback) and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from edih.settings import PlatformSettings
from services.console.settings import ConsoleSettings
from services.intake.settings import IntakeSettings
from shared.settings import Settings, describe_settings_error
from workflows.handlers import policy_from
from workflows.models import JourneyPolicy
from workflows.settings import JourneySettings

STRONG_SECRET = "k" * 32
PRODUCTION = {"environment": "production", "database_url": "postgresql://db/edih",
              "console_admin_password": "a long and secret one", "jwt_secret": STRONG_SECRET}


def problems(**values: object) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        Settings(**values)  # type: ignore[arg-type]
    return describe_settings_error(raised.value)


def test_production_takes_a_secret_of_32_bytes():
    assert Settings(**PRODUCTION).jwt_secret == STRONG_SECRET  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["x", "k" * 31, "é" * 15])
def test_production_refuses_a_short_hs256_secret(secret: str):
    [line] = problems(**{**PRODUCTION, "jwt_secret": secret})
    assert line.startswith("EDIH_JWT_SECRET has ") and "HS256 needs at least 32" in line


def test_production_measures_the_secret_by_its_algorithm():
    [line] = problems(**{**PRODUCTION, "jwt_algorithm": "HS512", "jwt_secret": "k" * 63})
    assert "HS512 needs at least 64" in line
    accepted = Settings(**{**PRODUCTION, "jwt_algorithm": "HS512", "jwt_secret": "k" * 64})  # type: ignore[arg-type]
    assert (accepted.jwt_algorithm, accepted.jwt_secret) == ("HS512", "k" * 64)


def test_development_keeps_its_short_keys():
    assert Settings(jwt_secret="x").jwt_secret == "x"


def test_production_lists_every_placeholder_at_once():
    # The deployment's checks first, then each service's own (its section's subclass adds them).
    with pytest.raises(ValidationError) as raised:
        PlatformSettings(environment="production", notification_webhooks={"staff-alert": ["https://x"]})
    assert describe_settings_error(raised.value) == [
        "EDIH_JWT_SECRET must be set to the hub's own key in production",
        "EDIH_DATABASE_URL (PostgreSQL) is required in production",
        "EDIH_CONSOLE_ADMIN_PASSWORD must be changed in production",
        "EDIH_NOTIFICATION_WEBHOOK_SECRET must be set when webhooks are configured in production",
    ]


def test_a_service_checks_its_own_section_only():
    # Intake takes the console's placeholder password: only the console refuses it.
    intake = IntakeSettings(**{**PRODUCTION, "console_admin_password": "admin"})  # type: ignore[arg-type]
    assert intake.environment == "production" and not hasattr(intake, "console_admin_password")
    with pytest.raises(ValidationError, match="EDIH_CONSOLE_ADMIN_PASSWORD must be changed"):
        ConsoleSettings(**{**PRODUCTION, "console_admin_password": "admin"})  # type: ignore[arg-type]


def test_a_service_makes_its_settings_from_the_deployments_with_values_given_winning():
    deployment = Settings(hub_id="nl-zuid", topic_prefix="t_")
    intake = IntakeSettings.of(deployment, intake_pool_sizes={"drenthe": 3})
    assert (intake.hub_id, intake.topic_prefix, intake.intake_pool_sizes) == ("nl-zuid", "t_", {"drenthe": 3})
    assert intake.intake_questionnaire_link_ttl_days == 42  # the rest from the environment (defaults)
    with pytest.raises(ValidationError, match="intake_questionnaire_link_ttl_days"):
        IntakeSettings.of(deployment, intake_questionnaire_link_ttl_days=0)


def test_the_journey_durations_are_the_policys_defaults():
    policy = policy_from(JourneySettings())
    assert policy == JourneyPolicy()
    assert set(JourneyPolicy.model_fields) == {
        name.removeprefix("journey_") for name in JourneySettings.model_fields if name.startswith("journey_")}


def test_a_service_is_found_by_the_url_table_over_its_registered_port(monkeypatch):
    assert Settings().url_of("intake") == "http://127.0.0.1:8101"
    assert Settings().port_of("journey") == 8106
    configured = Settings(service_urls={"intake": "https://intake.hub.example/"})
    # Behind a proxy (no port in its URL) a service listens on its registered port.
    assert (configured.url_of("intake"), configured.port_of("intake")) == ("https://intake.hub.example", 8101)
    # The variable of one service from before the table still works, below the table.
    monkeypatch.setenv("EDIH_CONSOLE_URL", "http://console.hub.example:9000")
    assert Settings().url_of("console") == "http://console.hub.example:9000"
    assert Settings().port_of("console") == 9000
    monkeypatch.setenv("EDIH_SERVICE_URLS", '{"console": "http://other:1"}')
    assert Settings().url_of("console") == "http://other:1"
    with pytest.raises(KeyError, match="no URL for the service 'nowhere'"):
        Settings().url_of("nowhere")


def test_sasl_needs_a_username_and_a_password():
    [line] = problems(kafka_security_protocol="SASL_SSL", kafka_sasl_username="edih")
    assert line == ("EDIH_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs EDIH_KAFKA_SASL_USERNAME and "
                    "EDIH_KAFKA_SASL_PASSWORD")


def test_credentials_without_sasl_are_refused():
    [line] = problems(kafka_sasl_username="edih", kafka_sasl_password="secret")
    assert "EDIH_KAFKA_SECURITY_PROTOCOL is PLAINTEXT" in line


def test_a_certificate_file_that_is_missing_is_named(tmp_path: Path):
    missing = tmp_path / "ca.pem"
    assert problems(kafka_security_protocol="SSL", kafka_ssl_cafile=missing) == [
        f"EDIH_KAFKA_SSL_CAFILE: no file at {missing}"
    ]
    assert problems(temporal_tls=True, temporal_tls_ca_file=missing) == [
        f"EDIH_TEMPORAL_TLS_CA_FILE: no file at {missing}"
    ]


def test_tls_files_without_tls_are_refused(tmp_path: Path):
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    [kafka] = problems(kafka_ssl_cafile=ca)
    assert kafka == ("EDIH_KAFKA_SSL_CAFILE is set but EDIH_KAFKA_SECURITY_PROTOCOL is PLAINTEXT: "
                     "use SSL or SASL_SSL")
    [temporal] = problems(temporal_tls_ca_file=ca)
    assert temporal == ("EDIH_TEMPORAL_TLS_CA_FILE is set but EDIH_TEMPORAL_TLS is false: "
                        "set EDIH_TEMPORAL_TLS=true")


def test_an_api_key_is_never_sent_without_tls():
    [line] = problems(temporal_api_key="key")
    assert line.startswith("EDIH_TEMPORAL_API_KEY is set but EDIH_TEMPORAL_TLS is false")


def test_a_client_certificate_needs_its_key(tmp_path: Path):
    cert = tmp_path / "client.pem"
    cert.write_text("")
    assert problems(temporal_tls=True, temporal_tls_cert_file=cert) == [
        "EDIH_TEMPORAL_TLS_CERT_FILE and EDIH_TEMPORAL_TLS_KEY_FILE go together (mutual TLS needs both)"
    ]
    assert problems(kafka_security_protocol="SSL", kafka_ssl_keyfile=cert) == [
        "EDIH_KAFKA_SSL_KEYFILE needs EDIH_KAFKA_SSL_CERTFILE (the client certificate)"
    ]


def test_a_field_error_names_the_environment_variable():
    assert problems(kafka_replication_factor=0) == [
        "EDIH_KAFKA_REPLICATION_FACTOR: Input should be greater than or equal to 1"
    ]


def run_with(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EDIH_")}
    return subprocess.run([sys.executable, *command], env={**clean, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


WEAK_PRODUCTION = {"EDIH_ENVIRONMENT": "production", "EDIH_JWT_SECRET": "x",
                   "EDIH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}


@pytest.mark.parametrize("command", [("-m", "services.intake"), ("-m", "workflows"),
                                     ("-m", "services.console"),
                                     ("-m", "edih.cli", "token", "--role", "admin")])
def test_a_service_or_edih_with_bad_settings_says_what_is_wrong_and_exits(command: tuple[str, ...],
                                                                           tmp_path: Path):
    result = run_with({**WEAK_PRODUCTION, "EDIH_DATA_DIR": str(tmp_path)}, *command)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    # Each reads its own settings: the console's placeholder password is the console's problem
    # (and `edih`'s, which runs every service).
    console = ["configuration error: EDIH_CONSOLE_ADMIN_PASSWORD must be changed in production"
               ] if command[1] in ("services.console", "edih.cli") else []
    assert result.stderr.splitlines() == [
        "configuration error: EDIH_JWT_SECRET has 1 bytes; HS256 needs at least 32 in production "
        "(e.g. `openssl rand -hex 32`)",
        "configuration error: EDIH_DATABASE_URL (PostgreSQL) is required in production",
        "configuration error: EDIH_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs EDIH_KAFKA_SASL_USERNAME "
        "and EDIH_KAFKA_SASL_PASSWORD",
        *console,
    ]


def test_a_value_that_is_not_json_is_named():
    result = run_with({"EDIH_JOURNEY_DEFAULT_ADVISORS": "{drenthe: 7"}, "-m", "edih.cli", "token")
    assert (result.returncode, result.stderr) == (
        2, "configuration error: EDIH_JOURNEY_DEFAULT_ADVISORS: not valid JSON\n"
    )
