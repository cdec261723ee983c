"""The event contracts of contracts/: envelope, per-type payload schemas, topic registry, upcasters.

Validation runs on produce (before the outbox insert, so a bad event fails the state change with it) and on
consume (before a handler sees the event). Type names are explicit strings, never derived from Python paths.
"""
from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

try:  # Rust validator: the fast path (a full submission event validates in ~0.1 ms instead of ~30 ms)
    import jsonschema_rs
except ImportError:  # pragma: no cover - the pure-Python validator alone is correct, only slower
    jsonschema_rs = None

DEPARTMENT_CODES = (
    "natural_resources", "development_reform", "industry_it", "finance", "ecology_environment",
    "water_resources", "emergency_management", "market_regulation", "energy", "forestry_grassland",
    "financial_regulation", "taxation",
)


class ContractError(ValueError):
    """An event that does not match its contract. `errors` lists {field, message} pairs."""

    def __init__(self, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    consumers: tuple[str, ...]
    partitions: int
    event_types: tuple[str, ...]


def _describe(error) -> str:
    # Name the field, the expectation and the value received (attrs-style messages).
    value = json.dumps(error.instance, ensure_ascii=False, default=str)
    if len(value) > 80:
        value = value[:77] + "..."
    return f"{error.message} (got {value})"


class ContractRegistry:
    """Loads every `<type>.v<N>.schema.json` below the given directories and `topics.yaml` of the first."""

    def __init__(self, directories: Iterable[Path]):
        self.directories = [Path(d) for d in directories]
        self._validators: dict[tuple[str, int], Draft202012Validator] = {}
        self._upcasters: dict[tuple[str, int], Callable[[dict], dict]] = {}
        self.topics: dict[str, TopicSpec] = {}
        self.topic_patterns: dict[str, str] = {}  # expanded per-department topic name -> its pattern
        self.dead_letter_pattern = "dlq.{service}"
        self.dead_letter_partitions = 1
        envelope = None
        # Every schema under contracts/ is addressable by its $id, so event schemas can $ref the scoring
        # contracts (the assessment and the report) instead of copying them.
        resources = []
        for directory in self.directories:
            for path in sorted(directory.rglob("*.schema.json")):
                schema = json.loads(path.read_text(encoding="utf-8"))
                if "$id" in schema:
                    resources.append((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)))
        self._schemas = Registry().with_resources(resources)
        self._fast_registry = jsonschema_rs.Registry([(uri, r.contents) for uri, r in resources]) \
            if jsonschema_rs and resources else None
        self._fast: dict = {}
        for directory in self.directories:
            for path in sorted((directory / "events").glob("*.schema.json")):
                schema = json.loads(path.read_text(encoding="utf-8"))
                Draft202012Validator.check_schema(schema)
                stem = path.name[: -len(".schema.json")]
                name, _, version = stem.rpartition(".v")
                validator = Draft202012Validator(schema, format_checker=FormatChecker(), registry=self._schemas)
                key = ("envelope", 1) if name == "envelope" else (name, int(version))
                if jsonschema_rs is not None and key not in self._fast:
                    self._fast[key] = jsonschema_rs.Draft202012Validator(
                        schema, registry=self._fast_registry, validate_formats=True)
                if name == "envelope":
                    envelope = envelope or validator
                else:
                    self._validators[key] = validator
            topics_file = directory / "topics.yaml"
            if topics_file.exists():
                self._load_topics(yaml.safe_load(topics_file.read_text(encoding="utf-8")))
        if envelope is None:
            raise ContractError("no envelope.v1.schema.json found in " + ", ".join(map(str, self.directories)))
        self._envelope = envelope

    @classmethod
    def of(cls, contracts_dir: Path | str) -> ContractRegistry:
        """The registry of one contracts directory, loaded once per process: loading reads and checks every
        schema (about a second of CPU on the 2-core machine), and a probe or a command that loaded it on every
        call kept a web worker busy enough to miss its readiness deadline. Contracts do not change while a
        process runs; a test that registers upcasters builds its own registry."""
        return _registry_of(str(Path(contracts_dir).resolve()))

    def _load_topics(self, data: dict) -> None:
        for pattern, spec in (data.get("topics") or {}).items():
            names = [pattern]
            if "{department}" in pattern:
                names = [pattern.format(department=code) for code in DEPARTMENT_CODES]
            for name in names:
                if name != pattern:
                    self.topic_patterns[name] = pattern
                self.topics[name] = TopicSpec(
                    name=name,
                    producer=spec["producer"],
                    consumers=tuple(spec.get("consumers") or ()),
                    partitions=int(spec.get("partitions", 3)),
                    event_types=tuple(spec.get("event_types") or ()),
                )
        self.dead_letter_pattern = data.get("dead_letter_topic", self.dead_letter_pattern)
        self.dead_letter_partitions = int(data.get("dead_letter_partitions", self.dead_letter_partitions))

    # --- topics -------------------------------------------------------------------------------------------
    def topics_consumed_by(self, service: str) -> list[str]:
        return sorted(name for name, spec in self.topics.items() if service in spec.consumers)

    def topic_for(self, event_type: str) -> str:
        """The topic an event type is published on. For a type published on one topic per department this is
        the pattern (`review_routing.tasks.{department}`): its producer names the department's topic."""
        matches = [name for name, spec in self.topics.items() if event_type in spec.event_types]
        patterns = {self.topic_patterns.get(name) for name in matches}
        if len(matches) > 1 and len(patterns) == 1 and None not in patterns:
            return patterns.pop()
        if len(matches) != 1:
            raise ContractError(f"event type {event_type!r} is published on {len(matches)} topics; name one")
        return matches[0]

    def dead_letter_topic(self, service: str) -> str:
        return self.dead_letter_pattern.format(service=service)

    def known_types(self) -> list[tuple[str, int]]:
        return sorted(self._validators)

    # --- validation ---------------------------------------------------------------------------------------
    def register_upcaster(self, event_type: str, from_version: int, fn: Callable[[dict], dict]) -> None:
        """`fn(payload) -> payload` turns version N into N+1; consumers read old events through the chain."""
        self._upcasters[(event_type, from_version)] = fn

    def _errors(self, key: tuple[str, int], validator: Draft202012Validator, instance, prefix: str) -> list[dict]:
        """Every problem with `instance`, named by field. The Rust validator answers the common case (valid)
        quickly; the Python one words the errors (the two agree on validity; should they not, the Rust
        validator's own messages are reported rather than letting an invalid event through)."""
        fast = self._fast.get(key)
        if fast is not None and fast.is_valid(instance):
            return []

        def field(path) -> str:
            inner = ".".join(str(p) for p in path)
            return f"{prefix}.{inner}" if prefix and inner else (prefix or inner or "(root)")

        errors = [{"field": field(e.absolute_path), "message": _describe(e)}
                  for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]
        if not errors and fast is not None:
            errors = [{"field": field(e.instance_path), "message": e.message} for e in fast.iter_errors(instance)]
        return errors

    def validate(self, envelope: dict) -> dict:
        """Validate the envelope and its payload; returns the envelope unchanged or raises ContractError."""
        errors = self._errors(("envelope", 1), self._envelope, envelope, "")
        if errors:
            raise ContractError("invalid envelope: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                                errors)
        key = (envelope["type"], envelope["version"])
        validator = self._validators.get(key)
        if validator is None:
            raise ContractError(f"unknown event type {key[0]!r} version {key[1]}",
                                [{"field": "type", "message": f"no contract for {key[0]} v{key[1]}"}])
        errors = self._errors(key, validator, envelope["payload"], "payload")
        if errors:
            raise ContractError(
                f"invalid {key[0]} v{key[1]} payload: "
                + "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
        return envelope

    def upcast(self, envelope: dict) -> dict:
        """Return the envelope at the newest version this registry knows, applying upcasters in order."""
        event = dict(envelope)
        while (event["type"], event["version"] + 1) in self._validators:
            step = self._upcasters.get((event["type"], event["version"]))
            if step is None:
                break
            event["payload"] = step(dict(event["payload"]))
            event["version"] += 1
        return event


@functools.lru_cache(maxsize=8)
def _registry_of(directory: str) -> ContractRegistry:
    return ContractRegistry([Path(directory)])


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_event(
    event_type: str,
    *,
    version: int = 1,
    producer: str,
    aggregate_type: str,
    aggregate_id: str,
    aggregate_version: int,
    payload: dict,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> dict:
    """Build an envelope. The correlation id defaults to the current request's or event's."""
    from shared.logging import correlation_id as current_correlation

    event_id = str(uuid.uuid4())
    return {
        "event_id": event_id,
        "type": event_type,
        "version": version,
        "occurred_at": (occurred_at or utc_now()).isoformat().replace("+00:00", "Z"),
        "producer": producer,
        "aggregate_type": aggregate_type,
        "aggregate_id": str(aggregate_id),
        "aggregate_version": int(aggregate_version),
        "correlation_id": correlation_id or current_correlation.get() or event_id,
        "causation_id": causation_id,
        "payload": payload,
    }
