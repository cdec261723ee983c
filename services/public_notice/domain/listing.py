"""`ListedMine`: a mine on the green-mine list (名录) and its history there — listed (with its 公告), marked and
unmarked (标注), removed (移出名录, with the reason and its 公告).

The notice (附件2 三): "将公示无异议的矿山纳入绿色矿山名录库管理并向社会公告，接受社会监督"; (正文 二(三)): "纳入
绿色矿山名录的矿山实行动态管理，对出现……规定情形的，采取标注、限期整改、移出名录等措施及时处置".

* Identity: the mine id (the same mine listed again after a removal is the same entry, its history goes on);
  a case without a mine id falls back to its application id.
* Status: `listed` (在库), `marked` (标注; still on the list), `removed` (移出名录: not in the list any more, its
  page stays and says why; no certificate).
* Every change keeps a history entry {at, by, by_name, action, …, announcement_id, announcement_no}; reasons of
  marks and removals are public (they are announced), nothing personal is kept here.
Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.errors import InvalidTransition

STATUS_LABELS = {"listed": "在库", "marked": "标注", "removed": "已移出名录"}
ACTION_LABELS = {"listed": "纳入名录", "marked": "标注", "unmarked": "取消标注", "removed": "移出名录",
                 "imported": "录入本平台（平台启用前已纳入名录）"}
PUBLIC_FIELDS = ("mine_id", "application_id", "review_id", "version_no", "mine_name", "enterprise_name",
                 "credit_code", "league", "county", "minerals", "scale", "total", "institution_name", "case_no")


def listing_id(entry: Mapping) -> str:
    return entry.get("mine_id") or entry["application_id"]


def _dt(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass
class ListedMine:
    id: str
    mine_id: str | None
    application_id: str
    review_id: str | None
    version_no: int | None
    mine_name: str
    enterprise_name: str
    credit_code: str | None
    league: str
    county: str | None
    minerals: list[str]
    scale: str | None
    total: str | None
    institution_name: str | None
    case_no: str | None
    status: str
    listed_on: str
    listed_year: int
    batch_id: str
    announcement_id: str
    announcement_no: str
    mark_reason: str | None = None
    removal: dict | None = None
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def enter(cls, entry: Mapping, *, batch_id: str, announcement_id: str, announcement_no: str, on: date,
              at: datetime, by: str, by_name: str) -> ListedMine:
        """A mine entering the list from `entry` (a listable entry of a closed 公示 batch)."""
        fields = {name: entry.get(name) for name in PUBLIC_FIELDS}
        fields["minerals"] = list(fields["minerals"] or [])
        mine = cls(id=listing_id(entry), status="listed", listed_on=on.isoformat(), listed_year=on.year,
                   batch_id=batch_id, announcement_id=announcement_id, announcement_no=announcement_no, **fields)
        mine._log("listed", at, by, by_name, announcement_id, announcement_no, batch_id=batch_id)
        return mine

    @classmethod
    def imported(cls, record: Mapping, *, announcement_id: str, announcement_no: str, batch_id: str,
                 at: datetime, by: str, by_name: str, source: str) -> ListedMine:
        """A mine of the list kept before the platform (`domain.list_import` record): listed on its original
        date by its original announcement (history: `listed` on that date), then `imported` now by `by` from the
        file `source`. It had no application on the platform (application_id None)."""
        on = date.fromisoformat(record["listed_on"])
        mine = cls(id=record["id"], mine_id=None, application_id=None, review_id=None, version_no=None,
                   mine_name=record["mine_name"], enterprise_name=record["enterprise_name"],
                   credit_code=record["credit_code"], league=record["league"], county=record.get("county"),
                   minerals=list(record.get("minerals") or []), scale=record.get("scale"), total=None,
                   institution_name=None, case_no=None, status="listed", listed_on=on.isoformat(),
                   listed_year=on.year, batch_id=batch_id, announcement_id=announcement_id,
                   announcement_no=announcement_no)
        listed_at = datetime(on.year, on.month, on.day, 1, 0, tzinfo=at.tzinfo)  # 09:00 Beijing
        mine._log("listed", listed_at, "historical", "内蒙古自治区自然资源厅", announcement_id, announcement_no)
        mine._log("imported", at, by, by_name, None, None, source=source)
        return mine

    def relist(self, entry: Mapping, *, batch_id: str, announcement_id: str, announcement_no: str, on: date,
               at: datetime, by: str, by_name: str) -> None:
        """A removed mine listed again after a new application: the same entry, its history goes on."""
        if self.status != "removed":
            raise InvalidTransition(f"{self.mine_name} 已在绿色矿山名录中")
        for name in PUBLIC_FIELDS:
            if entry.get(name) is not None:
                setattr(self, name, list(entry[name]) if name == "minerals" else entry[name])
        self.status, self.listed_on, self.listed_year = "listed", on.isoformat(), on.year
        self.batch_id, self.announcement_id, self.announcement_no = batch_id, announcement_id, announcement_no
        self.mark_reason, self.removal = None, None
        self._log("listed", at, by, by_name, announcement_id, announcement_no, batch_id=batch_id)

    @property
    def on_list(self) -> bool:
        return self.status != "removed"

    def mark(self, reason: str, *, at: datetime, by: str, by_name: str, announcement_id: str | None = None,
             announcement_no: str | None = None) -> bool:
        """标注 with its public reason; False if already marked for the same reason."""
        if self.status == "removed":
            raise InvalidTransition(f"{self.mine_name} 已移出名录，不能标注")
        if self.status == "marked" and self.mark_reason == reason:
            return False
        self.status, self.mark_reason = "marked", reason
        self._log("marked", at, by, by_name, announcement_id, announcement_no, reason=reason)
        return True

    def unmark(self, reason: str, *, at: datetime, by: str, by_name: str) -> bool:
        if self.status != "marked":
            return False
        self.status, self.mark_reason = "listed", None
        self._log("unmarked", at, by, by_name, None, None, reason=reason)
        return True

    def remove(self, reason: str, *, document_no: str, on: date, at: datetime, by: str, by_name: str,
               announcement_id: str, announcement_no: str) -> bool:
        """移出名录 with the reason and the decision; False if already removed by this announcement."""
        if self.status == "removed":
            if (self.removal or {}).get("announcement_id") == announcement_id:
                return False
            raise InvalidTransition(f"{self.mine_name} 已移出名录")
        self.status, self.mark_reason = "removed", None
        self.removal = {"reason": reason, "document_no": document_no, "on": on.isoformat(),
                        "announcement_id": announcement_id, "announcement_no": announcement_no}
        self._log("removed", at, by, by_name, announcement_id, announcement_no, reason=reason,
                  document_no=document_no)
        return True

    def _log(self, action, at, by, by_name, announcement_id, announcement_no, **more) -> None:
        self.history.append({"at": at, "by": by, "by_name": by_name, "action": action,
                             "announcement_id": announcement_id, "announcement_no": announcement_no, **more})

    def to_dict(self) -> dict:
        return {"_id": self.id, **{name: getattr(self, name) for name in PUBLIC_FIELDS},
                "status": self.status, "listed_on": self.listed_on, "listed_year": self.listed_year,
                "batch_id": self.batch_id, "announcement_id": self.announcement_id,
                "announcement_no": self.announcement_no, "mark_reason": self.mark_reason, "removal": self.removal,
                "history": [dict(h) for h in self.history], "version": self.version}

    @classmethod
    def from_dict(cls, doc: Mapping) -> ListedMine:
        return cls(id=doc["_id"], **{name: doc.get(name) for name in PUBLIC_FIELDS if name != "minerals"},
                   minerals=list(doc.get("minerals") or []), status=doc["status"], listed_on=doc["listed_on"],
                   listed_year=doc["listed_year"], batch_id=doc["batch_id"], announcement_id=doc["announcement_id"],
                   announcement_no=doc["announcement_no"], mark_reason=doc.get("mark_reason"),
                   removal=doc.get("removal"),
                   history=[{**h, "at": _dt(h.get("at"))} for h in doc.get("history") or []],
                   version=doc.get("version"))


@dataclass
class ListStamp:
    """How often the public list has changed (a mine listed, marked, unmarked, removed): bumped in the same
    transaction as the change, so a reader holding the list in memory knows with one read by id whether its copy
    is still the list (`adapters/queries.ListCache`)."""

    id: str = "list"
    changes: int = 0
    changed_at: datetime | None = None
    version: int | None = None

    def bump(self, at: datetime) -> None:
        self.changes += 1
        self.changed_at = at

    def to_dict(self) -> dict:
        return {"_id": self.id, "changes": self.changes, "changed_at": self.changed_at, "version": self.version}

    @classmethod
    def from_dict(cls, doc: Mapping) -> ListStamp:
        return cls(id=doc["_id"], changes=doc.get("changes", 0), changed_at=_dt(doc.get("changed_at")),
                   version=doc.get("version"))
