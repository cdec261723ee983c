"""The one generic repository shape for aggregates stored one document each: the port `Aggregates`, its MongoDB
adapter `MongoAggregates` (versioned saves through the unit of work's transaction) and, for the fast tests,
`shared.testing.FakeAggregates`.

An aggregate is an object with `id`, `version` (None until first saved), `to_dict()` (with `_id`) and a
`from_dict()` class method. Its queries are equality filters on its fields (`find(status="open")`; a list value
means one of them; a double underscore reaches into a sub-document: `institution__id="i1"`). Services whose
aggregates fit this shape use it rather than a repository class each (review_routing's region stage,
public_notice's batches, objections, list and notifications)."""
from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, DESCENDING

from shared.storage import Transaction

A = TypeVar("A")


class Aggregates(abc.ABC, Generic[A]):
    """Port: one kind of aggregate, one collection."""

    @abc.abstractmethod
    def get(self, aggregate_id: str) -> A | None: ...

    @abc.abstractmethod
    def get_many(self, aggregate_ids: Iterable[str]) -> dict[str, A]: ...

    @abc.abstractmethod
    def find(self, *, sort: str | None = None, descending: bool = False, limit: int = 0, **equals: Any) -> list[A]:
        """Every aggregate whose fields equal `equals` (a list/tuple/set value: one of them; a double
        underscore reaches into a sub-document: `institution__id="i1"`), sorted by `sort` (default: id)."""

    @abc.abstractmethod
    def save(self, aggregate: A) -> int:
        """Insert (version None) or replace if still at its version (else ConcurrencyError); sets and returns
        `aggregate.version`."""


def equality_query(equals: dict[str, Any]) -> dict:
    """`find`'s keyword filters as a MongoDB query."""
    return {name.replace("__", "."): ({"$in": list(value)} if isinstance(value, list | tuple | set) else value)
            for name, value in equals.items()}


class MongoAggregates(Aggregates):
    """Adapter: the aggregates of one collection, read and written through the unit of work's transaction."""

    def __init__(self, tx: Transaction, collection: str, kind):
        self.tx = tx
        self.collection = collection
        self.coll = tx.db[collection]
        self.session = tx.session
        self.kind = kind

    def get(self, aggregate_id: str):
        doc = self.coll.find_one({"_id": aggregate_id}, session=self.session)
        return self.kind.from_dict(doc) if doc else None

    def get_many(self, aggregate_ids: Iterable[str]) -> dict:
        return {d["_id"]: self.kind.from_dict(d)
                for d in self.coll.find({"_id": {"$in": list(aggregate_ids)}}, session=self.session)}

    def find(self, *, sort: str | None = None, descending: bool = False, limit: int = 0, **equals: Any) -> list:
        cursor = self.coll.find(equality_query(equals), session=self.session).sort(
            [(sort or "_id", DESCENDING if descending else ASCENDING)])
        if limit:
            cursor = cursor.limit(limit)
        return [self.kind.from_dict(d) for d in cursor]

    def save(self, aggregate) -> int:
        aggregate.version = self.tx.save_versioned(self.collection, aggregate.to_dict(), aggregate.version)
        return aggregate.version
