"""From settings to client arguments: Kafka TLS and SASL reach both the FastStream broker (producer
and consumers) and the admin client the same way, topics get the configured replication factor, and
Temporal gets its TLS, client certificate and API key."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from temporalio.service import TLSConfig

from shared.kafka import kafka_client_options, make_broker, new_topics
from shared.settings import Settings
from tests.support.tls import certificates as issue_certificates
from workflows.worker import temporal_connect_options


@pytest.fixture
def issued(tmp_path: Path) -> tuple[trustme.CA, dict[str, Path]]:
    return issue_certificates(tmp_path, "edih-client")


@pytest.fixture
def ca(issued: tuple[trustme.CA, dict[str, Path]]) -> trustme.CA:
    return issued[0]


@pytest.fixture
def certificates(issued: tuple[trustme.CA, dict[str, Path]]) -> dict[str, Path]:
    """A CA file, and a client certificate with its key, as a cluster's operator hands them out."""
    return issued[1]


def broker_arguments(settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the broker's producer and its consumers connect with."""
    broker = make_broker(settings, "intake")
    return broker._connection_kwargs, dict(broker.config.broker_config.builder.keywords)


SECURITY_KEYS = {"security_protocol", "ssl_context", "sasl_mechanism", "sasl_plain_username",
                 "sasl_plain_password"}


def security_of(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in arguments.items() if k in SECURITY_KEYS}


def test_the_defaults_connect_in_plaintext():
    settings = Settings(kafka_bootstrap_servers="kafka-1:9092,kafka-2:9092")
    assert kafka_client_options(settings) == {"bootstrap_servers": "kafka-1:9092,kafka-2:9092"}
    producer, consumer = broker_arguments(settings)
    assert security_of(producer) in ({}, {"security_protocol": "PLAINTEXT", "ssl_context": None})
    assert security_of(consumer) == security_of(producer)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_over_tls_with_the_hubs_ca(mechanism: str, certificates: dict[str, Path], ca: trustme.CA):
    settings = Settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism=mechanism,  # type: ignore[arg-type]
        kafka_sasl_username="edih-intake", kafka_sasl_password="s3cret",  # type: ignore[arg-type]
        kafka_ssl_cafile=certificates["ca"],
    )
    options = kafka_client_options(settings)
    assert {k: options[k] for k in ("security_protocol", "sasl_mechanism", "sasl_plain_username",
                                    "sasl_plain_password")} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": mechanism,
        "sasl_plain_username": "edih-intake", "sasl_plain_password": "s3cret",
    }
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs(binary_form=True) == [ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())]
    producer, consumer = broker_arguments(settings)
    for arguments in (producer, consumer):
        assert security_of(arguments).keys() == SECURITY_KEYS
        assert {k: arguments[k] for k in SECURITY_KEYS - {"ssl_context"}} == {
            k: options[k] for k in SECURITY_KEYS - {"ssl_context"}
        }
        assert arguments["ssl_context"].get_ca_certs() == context.get_ca_certs()


def test_sasl_without_tls():
    settings = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u",
                        kafka_sasl_password="p")  # type: ignore[arg-type]
    options = kafka_client_options(settings)
    assert (options["security_protocol"], options["ssl_context"], options["sasl_mechanism"]) == (
        "SASL_PLAINTEXT", None, "PLAIN")


def test_mutual_tls_loads_the_client_certificate(certificates: dict[str, Path]):
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=certificates["ca"],
                        kafka_ssl_certfile=certificates["cert"], kafka_ssl_keyfile=certificates["key"])
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SSL"
    assert "sasl_mechanism" not in options
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_tls_without_a_ca_file_trusts_the_systems_cas():
    options = kafka_client_options(Settings(kafka_security_protocol="SSL"))
    assert options["security_protocol"] == "SSL"
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_topics_get_the_configured_partitions_and_replication_factor():
    settings = Settings(kafka_topic_partitions=6, kafka_replication_factor=3)
    [topic] = new_topics(settings, ["edih.intake.events"])
    assert (topic.name, topic.num_partitions, topic.replication_factor) == ("edih.intake.events", 6, 3)
    [default] = new_topics(Settings(), ["edih.intake.events"])
    assert (default.num_partitions, default.replication_factor) == (3, 1)


def test_temporal_defaults_to_plaintext_without_a_key():
    assert temporal_connect_options(Settings(temporal_namespace="edih")) == {
        "namespace": "edih", "tls": False, "api_key": None,
    }


def test_temporal_tls_with_a_client_certificate(certificates: dict[str, Path]):
    settings = Settings(temporal_tls=True, temporal_tls_ca_file=certificates["ca"],
                        temporal_tls_cert_file=certificates["cert"],
                        temporal_tls_key_file=certificates["key"])
    assert temporal_connect_options(settings)["tls"] == TLSConfig(
        server_root_ca_cert=certificates["ca"].read_bytes(),
        client_cert=certificates["cert"].read_bytes(),
        client_private_key=certificates["key"].read_bytes(),
    )


def test_temporal_cloud_with_an_api_key():
    options = temporal_connect_options(Settings(temporal_tls=True, temporal_api_key="tc-key",  # type: ignore[arg-type]
                                                temporal_namespace="edih.a1b2c"))
    assert options == {"namespace": "edih.a1b2c", "tls": TLSConfig(), "api_key": "tc-key"}
