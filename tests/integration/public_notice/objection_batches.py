"""A stand-in for the publicity area's PublicityBatch in the objection tests: only what the objections area asks
of a batch (accepts_objections, entry, objection_filed, objection_concluded, entries, title). Tests point
KINDS["batches"] here with monkeypatch; the whole 公示 → 异议 → 名录 flow is the end-to-end test's."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class ObjectionStubBatch:
    id: str
    start: str
    end: str
    entries: list
    title: str = "2026年第一批绿色矿山公示"
    concluded: list = field(default_factory=list)
    version: int | None = None

    def accepts_objections(self, today: date) -> bool:
        return date.fromisoformat(self.start) <= today <= date.fromisoformat(self.end)

    def entry(self, application_id):
        return next((dict(e) for e in self.entries if e["application_id"] == application_id), None)

    def objection_filed(self, application_id, objection_id):
        for e in self.entries:
            if e["application_id"] == application_id:
                e["state"] = "objected"
                e.setdefault("objections", []).append(objection_id)

    def objection_concluded(self, application_id, objection_id, upheld, action, at):
        self.concluded.append({"application_id": application_id, "objection_id": objection_id, "upheld": upheld,
                               "action": action, "at": at})

    def to_dict(self):
        return {"_id": self.id, "start": self.start, "end": self.end, "entries": self.entries, "title": self.title,
                "concluded": self.concluded, "version": self.version}

    @classmethod
    def from_dict(cls, doc):
        return cls(doc["_id"], doc["start"], doc["end"], doc["entries"], doc.get("title", ""),
                   doc.get("concluded", []), doc.get("version"))
