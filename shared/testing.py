"""Test doubles of the ports in `shared`, for the fast handler tests (no server). Never used by the services.

`FakeUnitOfWork` keeps the contract of `uow.run`: on an exception the repositories and the published events
go back to what they were before, as a rolled-back transaction would leave them."""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TypeVar

from shared.aggregates import Aggregates
from shared.contracts import ContractRegistry
from shared.storage import ConcurrencyError
from shared.unit_of_work import UnitOfWork

T = TypeVar("T")


class FakeUnitOfWork(UnitOfWork):
    """In-memory unit of work. Subclasses set their fake repositories as attributes in `__init__` and list their
    names in `repositories` so that a failed `run` restores them.

    `published` holds (envelope, topic) of committed runs; `commits` counts them. Events are validated against
    their contracts when a registry is given, as the real outbox does."""

    repositories: tuple[str, ...] = ()

    def __init__(self, registry: ContractRegistry | None = None):
        self.registry = registry
        self.published: list[tuple[dict, str | None]] = []
        self.commits = 0
        self.reads = 0
        self._depth = 0

    def run(self, work: Callable[[], T]) -> T:
        if self._depth:
            return work()
        saved = {name: copy.deepcopy(getattr(self, name)) for name in self.repositories}
        published = len(self.published)
        self._depth += 1
        try:
            result = work()
        except BaseException:
            for name, value in saved.items():
                setattr(self, name, value)
            del self.published[published:]
            raise
        finally:
            self._depth -= 1
        self.commits += 1
        return result

    def read(self, work: Callable[[], T]) -> T:
        """Reads see what the fake repositories hold (the fake has no uncommitted state outside `run`)."""
        self.reads += 1
        return work()

    def publish(self, envelope: dict, *, topic: str | None = None) -> None:
        if not self._depth:
            raise RuntimeError("the unit of work is used outside uow.run(...)")
        if self.registry is not None:
            self.registry.validate(envelope)
        self.published.append((envelope, topic))

    def events(self, event_type: str | None = None) -> list[dict]:
        """The published envelopes, optionally of one type."""
        return [e for e, _ in self.published if event_type is None or e["type"] == event_type]


def save_versioned(docs: dict, key: str, doc: dict, expected: int | None) -> int:
    """What `Transaction.save_versioned` does, on a dict of documents: insert at version 1 (an existing id is
    refused) or replace if still at `expected`."""
    if expected is None:
        if key in docs:
            raise ConcurrencyError(f"{key} exists")
        docs[key] = copy.deepcopy({**doc, "version": 1})
        return 1
    if docs.get(key, {}).get("version") != expected:
        raise ConcurrencyError(f"{key} changed since version {expected}")
    docs[key] = copy.deepcopy({**doc, "version": expected + 1})
    return expected + 1


class FakeAggregates(Aggregates):
    """`shared.aggregates.Aggregates` in memory (equality filters, versioned saves; a stale version raises
    ConcurrencyError, documents are copies)."""

    def __init__(self, kind):
        self.kind = kind
        self.docs: dict[str, dict] = {}

    def get(self, aggregate_id):
        doc = self.docs.get(aggregate_id)
        return self.kind.from_dict(copy.deepcopy(doc)) if doc else None

    def get_many(self, aggregate_ids):
        return {i: self.get(i) for i in aggregate_ids if i in self.docs}

    def find(self, *, sort=None, descending=False, limit=0, **equals):
        def value(doc, name):
            for part in name.split("__"):
                doc = doc.get(part) if isinstance(doc, dict) else None
            return doc

        def matches(doc):
            return all(value(doc, n) in v if isinstance(v, list | tuple | set) else value(doc, n) == v
                       for n, v in equals.items())

        found = sorted((d for d in self.docs.values() if matches(d)),
                       key=lambda d: (value(d, sort or "_id") is None, str(value(d, sort or "_id"))),
                       reverse=descending)
        return [self.kind.from_dict(copy.deepcopy(d)) for d in (found[:limit] if limit else found)]

    def save(self, aggregate):
        doc = aggregate.to_dict()
        aggregate.version = save_versioned(self.docs, doc["_id"], doc, aggregate.version)
        return aggregate.version
