"""A stand-in for the publicity area's PublicityBatch in the listing tests: only what the listing asks of a batch
(`listable()`, `mark_listed(...)`), so the 名录 is tested on real servers on its own (the whole 公示 → 名录 flow is
the end-to-end test's). Tests point KINDS["batches"] here with monkeypatch."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StubBatch:
    id: str
    entries: list
    title: str = "2026年第一批绿色矿山公示"
    listed: list = field(default_factory=list)
    version: int | None = None

    def listable(self):
        return [dict(e) for e in self.entries if e["state"] in ("closed", "listed")]

    def mark_listed(self, application_ids, at, announcement_id):
        for e in self.entries:
            if e["application_id"] in application_ids:
                e["state"] = "listed"
        self.listed.append({"application_ids": list(application_ids), "at": at, "announcement_id": announcement_id})

    def to_dict(self):
        return {"_id": self.id, "entries": self.entries, "title": self.title, "listed": self.listed,
                "version": self.version}

    @classmethod
    def from_dict(cls, doc):
        return cls(doc["_id"], doc["entries"], doc.get("title", ""), doc.get("listed", []), doc.get("version"))
