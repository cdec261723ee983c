"""`SupervisedMine`: a mine of the green-mine list (名录) as supervision keeps it — who and where it is, when and by
which 公告 it was listed — the register the measures, the sweep, the random inspections and the targets work on
(issue 13 item 2). Built from `public_notice.mine_listed`; the licences, production dates and reserves of intake's
mine register are still to come (they need intake to publish its register).

* Identity: the mine id (a mine listed again after a removal is the same entry, its history goes on).
* Idempotent: a listing already recorded (the same 公告) changes nothing, whichever path it arrives by.
Pure: no I/O."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime

STATUS_LABELS = {"listed": "在库"}
SCALE_LABELS = {"large": "大型", "medium": "中型", "small": "小型"}


@dataclass
class SupervisedMine:
    id: str
    mine_name: str
    enterprise_name: str
    credit_code: str | None
    league: str
    county: str | None
    minerals: list[str]
    scale: str | None
    listed_on: str
    announcement_id: str
    announcement_no: str
    application_id: str | None
    source: str                     # publicity (listed through this platform) | import (the list kept before it)
    status: str = "listed"
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def from_listing(cls, payload: Mapping, at: datetime) -> SupervisedMine:
        mine, enterprise = payload["mine"], payload["enterprise"]
        entry = cls(id=payload["mine_id"], mine_name=mine["name"], enterprise_name=enterprise["name"],
                    credit_code=enterprise.get("credit_code"), league=payload["league"], county=mine.get("county"),
                    minerals=list(mine.get("minerals") or []), scale=mine.get("scale"),
                    listed_on=payload["listed_on"], announcement_id=payload["announcement_id"],
                    announcement_no=payload["announcement_no"], application_id=payload.get("application_id"),
                    source=payload.get("source") or "publicity")
        entry.history.append(_listed(payload, at))
        return entry

    def record_listing(self, payload: Mapping, at: datetime) -> bool:
        """A listing of this mine: False when this 公告 is already recorded (nothing changes)."""
        if any(h.get("announcement_id") == payload["announcement_id"] for h in self.history):
            return False
        fresh = SupervisedMine.from_listing(payload, at)
        self.history.append(_listed(payload, at))
        for name in ("mine_name", "enterprise_name", "credit_code", "league", "county", "minerals", "scale",
                     "listed_on", "announcement_id", "announcement_no", "application_id", "source"):
            setattr(self, name, getattr(fresh, name))
        self.status = "listed"
        return True

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def to_dict(self) -> dict:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        doc.pop("version")
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping) -> SupervisedMine:
        data = {k: v for k, v in doc.items() if k not in ("_id", "version")}
        return cls(id=doc["_id"], version=doc.get("version"), **data)


def _listed(payload: Mapping, at: datetime) -> dict:
    return {"at": at, "action": "listed", "listed_on": payload["listed_on"],
            "announcement_id": payload["announcement_id"], "announcement_no": payload["announcement_no"]}
