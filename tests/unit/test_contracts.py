"""The published contracts: committed JSON Schemas and docs match the registry, types follow the
naming rule, and envelopes are built only by the producers the registry names."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from shared.contracts import CONTRACTS, CloudEvent, UnknownEventType, build_event, parse_data
from shared.contracts.intake import CompanyRegistered
from shared.contracts.published import (
    ASYNCAPI_DOC,
    EVENTS_DOC,
    SCHEMA_DIR,
    asyncapi_document,
    breaking_changes,
    events_markdown,
    schema_files,
)

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def registered() -> CompanyRegistered:
    return CompanyRegistered(
        hub_id="nl-noord", company_id="c-1", kvk_number="01234567", legal_name="Acme BV",
        region="friesland", nace_code="C28", cohort_status="admitted",
    )


def test_no_published_schema_is_broken_by_the_code():
    generated = schema_files()
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        assert path in generated, f"{path.name} was published but its type is gone: keep it"
        problems = breaking_changes(json.loads(path.read_text()), json.loads(generated[path]))
        assert not problems, (
            f"{path.name}: {'; '.join(problems)}. Publish a new major version of the type instead."
        )


def test_the_committed_schemas_are_the_generated_ones():
    stale = [p.name for p, text in schema_files().items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run `make docs` to publish: {stale}"


BASE = {
    "properties": {"hub_id": {"type": "string"}, "note": {"type": "string"}},
    "required": ["hub_id"],
}


@pytest.mark.parametrize(
    ("current", "problem"),
    [
        ({**BASE, "properties": {"hub_id": {"type": "string"}}}, "'note' was removed"),
        ({**BASE, "properties": {**BASE["properties"], "note": {"type": "integer"}}}, "'note' changed"),
        ({**BASE, "required": ["hub_id", "note"]}, "'note' became required"),
        ({**BASE, "required": []}, "'hub_id' is no longer required"),
    ],
)
def test_a_breaking_change_is_named(current, problem):
    assert any(problem in p for p in breaking_changes(BASE, current))


def test_a_new_optional_field_is_compatible():
    current = {**BASE, "properties": {**BASE["properties"], "extra": {"type": "string"}}}
    assert breaking_changes(BASE, current) == []


def test_the_asyncapi_document_is_generated_from_the_registry():
    document = json.loads(ASYNCAPI_DOC.read_text())
    assert document == json.loads(asyncapi_document()), "contracts/asyncapi.json is stale: `make docs`"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {c.topic for c in CONTRACTS}


def test_the_events_document_is_generated_from_the_registry():
    assert EVENTS_DOC.read_text() == events_markdown(), "docs/events.md is stale: run `make docs`"


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_types_and_topics_follow_the_naming_rule(contract):
    assert re.fullmatch(r"eu\.edih\.[a-z]+\.[a-z-]+\.v\d+", contract.type)
    suffix = "events" if contract.kind == "event" else "commands"
    assert contract.topic == f"edih.{contract.service}.{suffix}"


def test_an_event_round_trips_through_its_envelope():
    contract, event = build_event("company-registered", registered(), sender="intake", at=AT)
    decoded = CloudEvent.from_bytes(event.to_bytes())
    assert decoded.source == "/nl-noord/intake"
    assert decoded.subject == "c-1"
    assert decoded.type == "eu.edih.intake.company-registered.v1"
    parsed_contract, data = parse_data(decoded)
    assert parsed_contract is contract
    assert data == registered()


def test_only_a_named_producer_may_build_an_event():
    with pytest.raises(ValueError, match="not a producer"):
        build_event("company-registered", registered(), sender="console", at=AT)


def test_an_unknown_type_is_refused():
    event = CloudEvent(id="1", source="/nl-noord/x", type="eu.edih.x.nothing.v1", subject="c",
                       time=AT, data={})
    with pytest.raises(UnknownEventType):
        parse_data(event)


def test_data_whose_company_is_not_the_subject_is_refused():
    _, event = build_event("company-registered", registered(), sender="intake", at=AT)
    event.subject = "someone-else"
    with pytest.raises(ValueError, match="subject"):
        parse_data(event)
