"""contracts/ is consistent: schemas are valid, every published type has a schema and a valid example,
producers and consumers are real services, validation errors name the field."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from shared.config import SERVICES
from shared.contracts import ContractError, ContractRegistry, new_event

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


@pytest.fixture(scope="module")
def registry():
    return ContractRegistry([CONTRACTS])


def test_every_schema_file_is_a_valid_2020_12_schema():
    files = sorted(CONTRACTS.rglob("*.schema.json"))
    assert len(files) >= 5
    for path in files:
        Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_topic_registry_names_real_services_and_typed_events(registry):
    raw = yaml.safe_load((CONTRACTS / "topics.yaml").read_text(encoding="utf-8"))
    known = set(registry.known_types())
    for name, spec in registry.topics.items():
        assert spec.producer in SERVICES, name
        assert set(spec.consumers) <= set(SERVICES), name
        assert spec.partitions >= 1
        for event_type in spec.event_types:
            assert any(t == event_type for t, _ in known), f"{event_type} on {name} has no schema"
            assert event_type.startswith(spec.producer + "."), f"{event_type} is not {spec.producer}'s to publish"
    assert "review_routing.tasks.{department}" in raw["topics"]
    assert "review_routing.tasks.ecology_environment" in registry.topics


def test_every_event_version_has_a_valid_example(registry):
    for event_type, version in registry.known_types():
        example = CONTRACTS / "examples" / f"{event_type}.v{version}.json"
        assert example.exists(), f"missing example {example.name}"
        envelope = json.loads(example.read_text(encoding="utf-8"))
        assert (envelope["type"], envelope["version"]) == (event_type, version)
        registry.validate(envelope)


def test_each_type_is_published_on_exactly_one_topic(registry):
    for event_type, _ in registry.known_types():
        if event_type == "review_routing.review_task_assigned":
            continue  # one topic per department, chosen by the router
        assert registry.topic_for(event_type)


def test_envelope_errors_name_the_field_and_the_value(registry):
    example = json.loads((CONTRACTS / "examples" / "intake.application_submitted.v1.json").read_text())
    broken = copy.deepcopy(example)
    broken["version"] = "1"
    del broken["correlation_id"]
    with pytest.raises(ContractError) as raised:
        registry.validate(broken)
    fields = {e["field"] for e in raised.value.errors}
    assert fields == {"version", "(root)"}
    assert any("'1'" in e["message"] for e in raised.value.errors)


def test_payload_errors_reach_into_referenced_contracts(registry):
    example = json.loads((CONTRACTS / "examples" / "intake.application_submitted.v1.json").read_text())
    broken = copy.deepcopy(example)
    broken["payload"]["assessment"]["mine"]["mining_method"] = "strip"
    broken["payload"]["mine"]["scale"] = "huge"
    with pytest.raises(ContractError) as raised:
        registry.validate(broken)
    fields = sorted(e["field"] for e in raised.value.errors)
    assert fields == ["payload.assessment.mine.mining_method", "payload.mine.scale"]


def test_unknown_type_or_version_is_refused(registry):
    event = new_event("intake.application_submitted", version=9, producer="intake", aggregate_type="application",
                      aggregate_id="a", aggregate_version=1, payload={})
    with pytest.raises(ContractError, match="unknown event type"):
        registry.validate(event)


def test_new_event_carries_the_current_correlation_id():
    from shared.logging import correlation_id

    token = correlation_id.set("corr-123")
    try:
        event = new_event("x.y_happened", producer="intake", aggregate_type="a", aggregate_id="1",
                          aggregate_version=1, payload={})
    finally:
        correlation_id.reset(token)
    assert event["correlation_id"] == "corr-123" and event["causation_id"] is None
    assert event["occurred_at"].endswith("Z")
