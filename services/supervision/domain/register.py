"""`SupervisedMine`: a mine as supervision knows it, one entry per mine id, from two sources —

* the green-mine list (名录): `public_notice.mine_listed` (who and where, when and by which 公告 it was listed);
* intake's mine register: `intake.mine_recorded` (licences and their validity, production status and dates,
  reserves, scale, mining method, 矿区范围), a snapshot per change.

A mine of the register that is not (or not yet) listed is kept too (`status` "registered"): the targets count the
licensed producing mines whether listed or not. The measures, the sweep and the random inspections work on the
listed ones (issue 13 items 2–6).

* Identity: the mine id (a mine listed again after a removal is the same entry, its history goes on).
* The same mine under two ids: a mine listed before the platform is listed under the imported list's id
  (`hist-…`), intake registers it under its own. A listing and a snapshot whose ids differ are of the same mine when
  the enterprise's 统一社会信用代码 and the mine name (NFKC, whitespace removed) are the same (`same_mine`). The list's
  id stays the entry's id (the measures' events are keyed by it); intake's id is kept as `register_mine_id`, so that
  later snapshots find the entry. A snapshot that came first made an entry of its own ("registered"): the listed
  entry takes its snapshot, history and changes (`absorb`) and it is left `merged` (`merged_into` the listed one),
  counted nowhere.
* Idempotent: a listing already recorded (the same 公告) and a register snapshot not newer than the one kept change
  nothing, whichever path and order they arrive by.
* 重大变化 (附件2 三, 四(一)2): a change of 矿区范围, 开采方式, 开采矿种 or 开采规模 between two snapshots is recorded
  with its date (`changes`); the sweep marks the mine and asks the region stage for a re-evaluation.
Pure: no I/O."""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.stored import StoredDataclass
from supervision.domain import triggers

STATUS_LABELS = {"listed": "在库", "registered": "未入库", "removed": "已移出名录", "merged": "已并入名录矿山"}
# the statuses of the entries that count (a merged entry is the same mine as the listed one that absorbed it)
COUNTED = ("listed", "registered", "removed")
SCALE_LABELS = {"large": "大型", "medium": "中型", "small": "小型"}
PRODUCTION_LABELS = {"in_production": "在产", "suspended": "停产", "construction": "在建", "closed": "关闭"}
# the register's fields whose change is a 重大变化, as the sweep's rules name them (triggers.CHANGE_LABELS)
MAJOR_FIELDS = {"area": "mining_area", "method": "mining_method", "minerals": "minerals", "scale": "scale"}
STOPPED = ("suspended", "closed")


@dataclass
class SupervisedMine(StoredDataclass):
    id: str
    mine_name: str
    enterprise_name: str
    credit_code: str | None
    league: str
    county: str | None
    minerals: list[str]
    scale: str | None
    listed_on: str | None = None
    announcement_id: str | None = None
    announcement_no: str | None = None
    application_id: str | None = None
    source: str | None = None       # publicity (listed through this platform) | import (the list kept before it)
    status: str = "listed"          # listed | registered (in intake's register, not on the list) | removed | merged
    register: dict | None = None    # intake's latest snapshot: mine facts and licences (intake.mine_recorded)
    register_version: int = 0
    changes: list[dict] = field(default_factory=list)   # 重大变化 seen between snapshots
    history: list[dict] = field(default_factory=list)
    register_mine_id: str | None = None   # intake's id of the mine (the entry's id, or another for a hist- listing)
    merged_into: str | None = None        # status merged: the listed entry that took this one's register
    version: int | None = None

    # -- from the list -------------------------------------------------------------------------------------------
    @classmethod
    def from_listing(cls, payload: Mapping, at: datetime) -> SupervisedMine:
        entry = cls(id=payload["mine_id"], mine_name="", enterprise_name="", credit_code=None, league="",
                    county=None, minerals=[], scale=None)
        entry.record_listing(payload, at)
        return entry

    def record_listing(self, payload: Mapping, at: datetime) -> bool:
        """A listing of this mine: False when this 公告 is already recorded (nothing changes)."""
        if any(h.get("announcement_id") == payload["announcement_id"] for h in self.history):
            return False
        mine, enterprise = payload["mine"], payload["enterprise"]
        if self.register is None:       # the register's facts, when known, are newer than the listing's
            self.mine_name, self.enterprise_name = mine["name"], enterprise["name"]
            self.credit_code, self.league, self.county = enterprise.get("credit_code"), payload["league"], mine.get(
                "county")
            self.minerals, self.scale = list(mine.get("minerals") or []), mine.get("scale")
        self.listed_on, self.announcement_id = payload["listed_on"], payload["announcement_id"]
        self.announcement_no, self.application_id = payload["announcement_no"], payload.get("application_id")
        self.source = payload.get("source") or "publicity"
        self.status = "listed"
        self.history.append({"at": at, "action": "listed", "listed_on": payload["listed_on"],
                             "announcement_id": payload["announcement_id"],
                             "announcement_no": payload["announcement_no"]})
        return True

    # -- from intake's register ----------------------------------------------------------------------------------
    @classmethod
    def from_record(cls, payload: Mapping, at: datetime) -> SupervisedMine:
        entry = cls(id=payload["mine_id"], mine_name="", enterprise_name="", credit_code=None, league="",
                    county=None, minerals=[], scale=None, status="registered")
        entry.record_register(payload, at)
        return entry

    def record_register(self, payload: Mapping, at: datetime) -> bool:
        """A snapshot of intake's register entry: False when it is not newer than the one kept. Differences of
        the four 重大变化 fields from the kept snapshot are recorded as changes on the snapshot's date."""
        if payload["register_version"] <= self.register_version:
            return False
        mine, enterprise = payload["mine"], payload["enterprise"]
        snapshot = {**{k: v for k, v in mine.items()}, "licences": dict(payload["licences"])}
        snapshot.setdefault("mining_area", None)
        snapshot.setdefault("production_stopped_on", None)
        previous, on = self.register, payload["recorded_on"]
        if previous is not None:
            for name, key in MAJOR_FIELDS.items():
                before, after = previous.get(key), snapshot.get(key)
                # The 矿区范围 written down for the first time (an optional field) is no change of it.
                if _same(key, before, after) or (key == "mining_area" and not before):
                    continue
                self.changes.append({"field": name, "changed_on": on, "before": _shown(key, before),
                                     "after": _shown(key, after), "register_version": payload["register_version"]})
        stopped = snapshot["production_status"] in STOPPED
        was_stopped = previous is not None and previous.get("production_status") in STOPPED
        # since the date the register gives, else since the day supervision first saw it stopped
        snapshot["stopped_since"] = (snapshot["production_stopped_on"]
                                     or (previous["stopped_since"] if was_stopped else on)) if stopped else None
        self.register, self.register_version = snapshot, payload["register_version"]
        self.register_mine_id = payload["mine_id"]
        self.mine_name, self.enterprise_name = mine["name"], enterprise["name"]
        self.credit_code, self.league, self.county = enterprise["credit_code"], mine["league"], mine["county"]
        self.minerals, self.scale = list(mine["minerals"]), mine["scale"]
        self.history.append({"at": at, "action": f"register_{payload['change']}",
                             "register_version": payload["register_version"], "recorded_on": on,
                             "changed": list(payload.get("changed") or [])})
        return True

    def record_removal(self, decision: Mapping, measure_id: str, at: datetime) -> bool:
        """Removed from the list by the 协调机制's decision (the measures area): no longer supervised as listed."""
        if self.status != "listed":
            return False
        self.status = "removed"
        self.history.append({"at": at, "action": "removed", "measure_id": measure_id,
                             "document_no": decision["document_no"], "decided_on": decision["recorded_on"]})
        return True

    # -- the same mine under two ids ----------------------------------------------------------------------------
    def same_mine_as(self, credit_code: str | None, mine_name: str | None) -> bool:
        return same_mine(self.credit_code, self.mine_name, credit_code, mine_name)

    def takes_register(self, payload: Mapping) -> bool:
        """Whether a snapshot under another id (`payload`, intake.mine_recorded) is of this listed mine: the same
        enterprise and mine name, and no snapshot of another intake id kept yet."""
        return (self.status in ("listed", "removed") and self.id != payload["mine_id"]
                and (self.register_mine_id == payload["mine_id"] or (self.register is None
                                                                     and self.register_mine_id is None))
                and self.same_mine_as(payload["enterprise"].get("credit_code"), payload["mine"].get("name")))

    def absorb(self, other: SupervisedMine, at: datetime) -> bool:
        """This listed entry takes `other`'s register (a registered-only entry of the same mine under intake's id):
        its snapshot, changes and history; `other` is left merged into this one. False when already done."""
        if other.status != "registered" or other.id == self.id or not self.on_list:
            return False
        self.register, self.register_version = other.register, other.register_version
        self.register_mine_id = other.register_mine_id or other.id
        self.changes = [*other.changes, *self.changes]
        self.history = [*other.history, *self.history,
                        {"at": at, "action": "register_matched", "register_mine_id": self.register_mine_id}]
        self.mine_name, self.enterprise_name, self.credit_code = other.mine_name, other.enterprise_name, \
            other.credit_code
        self.league, self.county = other.league, other.county
        self.minerals, self.scale = list(other.minerals), other.scale
        other.status, other.merged_into = "merged", self.id
        other.history.append({"at": at, "action": "merged", "into": self.id})
        return True

    # -- what the sweep reads ------------------------------------------------------------------------------------
    def facts(self) -> triggers.MineFacts:
        """What the daily sweep's rules read (domain/triggers.py) from the register's latest snapshot."""
        snap = self.register or {}
        licences = tuple(triggers.Licence(kind, lic["number"], _date(lic.get("valid_to")))
                         for kind, lic in (snap.get("licences") or {}).items())
        changes = tuple(triggers.MajorChange(c["field"], _date(c["changed_on"]), c["before"], c["after"])
                        for c in self.changes)
        return triggers.MineFacts(mine_id=self.id, licences=licences, stopped_on=_date(snap.get("stopped_since")),
                                  changes=changes)

    @property
    def on_list(self) -> bool:
        return self.status == "listed"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def normalised(text: str | None) -> str:
    """A name or code as compared: NFKC (full-width letters and digits as ASCII), no whitespace at all."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def code_variants(code: str | None) -> list[str]:
    """The credit code as given and as compared, for looking it up."""
    return sorted({code or "", normalised(code).upper()} - {""})


def same_mine(code_a: str | None, name_a: str | None, code_b: str | None, name_b: str | None) -> bool:
    """The same mine: the same enterprise (统一社会信用代码, case aside) and the same mine name, both known."""
    code_a, code_b = normalised(code_a).upper(), normalised(code_b).upper()
    name_a, name_b = normalised(name_a), normalised(name_b)
    return bool(code_a and name_a) and code_a == code_b and name_a == name_b


def _same(key: str, before, after) -> bool:
    """Equal as the register means them: minerals in another order are the same minerals."""
    if key == "minerals":
        return sorted(before or []) == sorted(after or [])
    return before == after


def _shown(key: str, value) -> str:
    if value is None:
        return ""
    if key == "minerals":
        return "、".join(value)
    if key == "scale":
        return SCALE_LABELS.get(value, value)
    if key == "mining_method":
        return {"open_pit": "露天开采", "underground": "地下开采", "oil_gas": "油气开采"}.get(value, value)
    return str(value)


def _date(value) -> date | None:
    return None if value is None else date.fromisoformat(value)
