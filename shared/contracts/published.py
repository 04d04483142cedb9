"""The published form of the contracts: JSON Schema per event type and `docs/events.md`.

Both are generated from the registry (`python -m shared.contracts`, or `make docs`) and committed;
the test suite checks that they match the code, so a change that would break a published schema
fails CI (publish a new major version of the type instead).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import create_model

from shared.contracts.envelope import CloudEvent
from shared.contracts.registry import CONTRACTS, Contract

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "contracts" / "schemas"
EVENTS_DOC = ROOT / "docs" / "events.md"
ASYNCAPI_DOC = ROOT / "contracts" / "asyncapi.json"


def data_schema(contract: Contract) -> dict[str, Any]:
    schema = contract.model.model_json_schema()
    schema["$id"] = f"https://edih.eu/contracts/{contract.type}.json"
    schema["title"] = contract.type
    schema["description"] = contract.description
    return schema


def breaking_changes(published: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What in `current` would break a consumer or producer of the `published` schema.

    Compatible: a new optional field. Breaking: a field removed or changed, a field made required
    or optional, a nested definition changed.
    """
    problems = []
    old_props, new_props = published.get("properties", {}), current.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"field {name!r} was removed")
        elif new_props[name] != schema:
            problems.append(f"field {name!r} changed from {schema} to {new_props[name]}")
    old_required, new_required = set(published.get("required", [])), set(current.get("required", []))
    for name in sorted(new_required - old_required):
        problems.append(f"field {name!r} became required")
    for name in sorted(old_required - new_required):
        problems.append(f"field {name!r} is no longer required")
    for name, definition in published.get("$defs", {}).items():
        if current.get("$defs", {}).get(name) != definition:
            problems.append(f"definition {name!r} changed")
    return problems


def schema_files() -> dict[Path, str]:
    """Each contract's schema file and its text."""
    return {
        SCHEMA_DIR / f"{c.type}.json": json.dumps(data_schema(c), indent=2, sort_keys=True) + "\n"
        for c in CONTRACTS
    }


def events_markdown() -> str:
    lines = [
        "# Events and commands",
        "",
        "Generated from `shared/contracts/registry.py` by `make docs`; do not edit by hand.",
        "",
        "Every record value is a CloudEvents 1.0 envelope in structured JSON mode "
        "(`content-type: application/cloudevents+json`): `id` is unique and stable across "
        "retries, `source` is `/<hub id>/<sending service>`, `subject` and the record key are the "
        "company id, `data` follows the JSON Schema in `contracts/schemas/<type>.json`.",
        "",
        "| short name | type | kind | producers | topic | key | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in CONTRACTS:
        lines.append(
            f"| `{c.name}` | `{c.type}` | {c.kind} | {', '.join(c.producers)} | `{c.topic}` "
            f"| {c.key} | {c.description} |"
        )
    lines += ["", "## Data of each type", ""]
    for c in CONTRACTS:
        lines += [f"### `{c.type}`", "", c.description, "", "| field | type | required | meaning |",
                  "|---|---|---|---|"]
        schema = c.model.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            kind = prop.get("type") or " or ".join(
                str(p.get("type", p.get("$ref", "object"))).rsplit("/", 1)[-1]
                for p in prop.get("anyOf", [])
            ) or str(prop.get("$ref", "object")).rsplit("/", 1)[-1]
            if "enum" in prop:
                kind = " / ".join(f"`{v}`" for v in prop["enum"])
            meaning = prop.get("description", "")
            lines.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} | {meaning} |")
        lines.append("")
    envelope = ", ".join(f"`{f}`" for f in CloudEvent.model_fields)
    lines += ["## Envelope", "", f"Fields: {envelope}.", ""]
    lines += DEAD_LETTERS_SECTION
    return "\n".join(lines)


DEAD_LETTERS_SECTION = [
    "## Dead letters",
    "",
    "A consumer group that cannot process a record (it is not a CloudEvent, its type is unknown, its "
    "`data` does not follow the schema, the handler refused it, or it kept failing after its retries) "
    "publishes it to its own dead-letter topic and goes on with the next record. The consuming service "
    "also keeps it, with the error, in its `dead_letters` table.",
    "",
    "| topic | key | value | headers |",
    "|---|---|---|---|",
    "| `edih.<consumer group>.dlq`: one per consumer group, named after its service "
    "(`edih.intake.dlq`, `edih.notifications.dlq`, `edih.journey.dlq`, `edih.console.dlq`) "
    "| the key of the record as received (usually the company id; empty when it had none) "
    "| the record's value as received, byte for byte (not wrapped in an envelope) "
    "| `content-type: application/octet-stream`; `ce_id`: an id derived from the group, topic, "
    "partition, offset and payload, the same however often the record failed |",
    "",
    "With a topic prefix set (`EDIH_TOPIC_PREFIX`), the prefix comes first, as on every topic.",
    "",
]


def envelope_model(contract: Contract) -> type[CloudEvent]:
    """The record value of `contract` on the wire: the CloudEvents envelope around its data."""
    name = "".join(part.capitalize() for part in f"{contract.service}-{contract.name}".split("-"))
    return create_model(  # type: ignore[no-any-return,call-overload]
        f"{name}V{contract.version}",
        __base__=CloudEvent,
        __doc__=contract.description,
        type=(Literal[contract.type], contract.type),  # type: ignore[valid-type,arg-type]
        data=(contract.model, ...),
    )


def asyncapi_document() -> str:
    """AsyncAPI 3.0 of every topic and message type, generated by FastStream from the registry."""
    broker = KafkaBroker("127.0.0.1:9092", description="Kafka (Tansu under `make up`)")
    for contract in CONTRACTS:
        broker.publisher(
            contract.topic,
            schema=envelope_model(contract),
            title=f"{contract.topic}:{contract.type}",
            description=f"{contract.description} Produced by {', '.join(contract.producers)}; "
            f"record key: {contract.key}.",
        )
    spec = AsyncAPI(
        broker,
        title="EDIH journey platform events",
        version="1",
        description="Every event and command the services of an EDIH exchange, as CloudEvents 1.0 "
        "in structured JSON mode. Generated from shared/contracts by `make docs`.",
    ).to_specification()
    return json.dumps(json.loads(spec.to_json()), indent=2, sort_keys=True) + "\n"


def write_all() -> list[Path]:
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in schema_files().items():
        path.write_text(text)
        written.append(path)
    EVENTS_DOC.parent.mkdir(parents=True, exist_ok=True)
    EVENTS_DOC.write_text(events_markdown())
    written.append(EVENTS_DOC)
    ASYNCAPI_DOC.write_text(asyncapi_document())
    written.append(ASYNCAPI_DOC)
    return written
