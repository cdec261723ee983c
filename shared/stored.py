"""The stored form of an aggregate that is a plain dataclass (the shape `shared.aggregates` keeps one document
each): its fields, `id` as `_id`, without `version` (the repository keeps the version on the document itself and
hands it back). Pure: domain modules use it."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Self


class StoredDataclass:
    """Mixin for a `@dataclass` with `id` and `version` fields: `to_dict()` and `from_dict()`."""

    def to_dict(self) -> dict:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        doc.pop("version")
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping) -> Self:
        return cls(id=doc["_id"], version=doc.get("version"),
                   **{k: v for k, v in doc.items() if k not in ("_id", "version")})
