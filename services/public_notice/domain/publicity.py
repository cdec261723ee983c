"""公示 (publicity): the cases the region proposed, and the batches the region office composes from them.

A `ProposedCase` (collection `proposals`, id = the region review id "<application>.v<n>") keeps what the public
sees of a case the region stage proposed (拟公示): `waiting` → `in_batch` (a draft holds it) → `publicised`; a
newer version of the same application supersedes an older waiting one (`superseded`).

A `PublicityBatch` (collection `batches`): `draft` → `published` → `open` (Beijing date within [start, end]) →
`closed` (after the end date). The window counts working days on the official calendar (法定节假日 skipped, 调休
working Saturdays counted): the start is a working day, the end is the `working_days`-th working day counting the
start. Opening and closing happen by the sweep, and `effective_status(today)` gives the right state on read even
before it has run. Each entry carries the public fields and a `state`: `in_window` → `clear` / `objection` at the
close → `not_upheld` / `upheld`-as-`returned` or `refused` → `listed`."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shared.errors import FieldError, InvalidInput, InvalidTransition

PUBLIC_FIELDS = ("application_id", "review_id", "version_no", "mine_id", "mine_name", "enterprise_name",
                 "credit_code", "league", "county", "minerals", "scale", "total", "institution_name", "case_no")
STATUS_LABELS = {"draft": "草稿", "published": "已发布，待公示", "open": "公示中", "closed": "公示期满"}
ENTRY_STATES = {"in_window": "公示中", "clear": "公示期满无异议", "objection": "异议处理中",
                "not_upheld": "异议不成立", "returned": "异议成立，退回重新审核", "refused": "异议成立，不予列入",
                "listed": "已列入名录"}
LISTABLE = ("clear", "not_upheld")
DEFAULT_WORKING_DAYS = 5
MIN_WORKING_DAYS, MAX_WORKING_DAYS = 1, 30
SCALE_LABELS = {"large": "大型", "medium": "中型", "small": "小型"}


def default_title(year: int, n: int) -> str:
    return f"内蒙古自治区{year}年第{n}批绿色矿山遴选结果公示"


def cn_date(value) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else str(value)


def _dt(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# -- the window on the official calendar -----------------------------------------------------------------------
def holiday_name(day: date) -> str | None:
    """The Chinese name of the 法定节假日 a day belongs to (国庆节、春节…), None for an ordinary day."""
    try:
        import chinese_calendar

        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except (NotImplementedError, ImportError):
        return None
    if not name:
        return None
    try:
        return chinese_calendar.Holiday(name).chinese
    except ValueError:
        return str(name)


def check_working_days(value) -> int:
    if value is None:
        return DEFAULT_WORKING_DAYS
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_WORKING_DAYS <= value <= MAX_WORKING_DAYS:
        raise InvalidInput("公示期天数有误", [FieldError(
            "working_days", f"公示期应为{MIN_WORKING_DAYS}至{MAX_WORKING_DAYS}个工作日")])
    return value


def first_start(calendar, today: date) -> date:
    """The default start: the first working day after `today` (the day of publication)."""
    return calendar.add_working_days(today, 1)


def window_end(calendar, start: date, working_days: int) -> date:
    """The `working_days`-th working day counting `start` (itself a working day)."""
    return calendar.add_working_days(start, working_days - 1)


def check_start(calendar, start: date) -> None:
    if not calendar.is_workday(start):
        name = holiday_name(start)
        why = f"{cn_date(start)}是{name}假期" if name else f"{cn_date(start)}是休息日"
        raise InvalidInput("公示开始日期不是工作日", [FieldError(
            "start_date", f"{why}，公示开始日期应为工作日（按国务院办公厅公布的节假日安排）")])


def window(calendar, start: date, working_days: int) -> dict:
    """{start, end, working_days, days: [{date, workday, holiday}] of the days not worked inside the window}."""
    end = window_end(calendar, start, working_days)
    skipped, day = [], start
    while day <= end:
        if not calendar.is_workday(day):
            name = holiday_name(day)
            skipped.append({"date": day.isoformat(), "label": cn_date(day),
                            "holiday": name, "reason": f"{name}假期" if name else "周末休息"})
        day += timedelta(days=1)
    return {"start": start.isoformat(), "end": end.isoformat(), "working_days": working_days,
            "start_label": cn_date(start), "end_label": cn_date(end), "skipped": skipped,
            "calendar_days": (end - start).days + 1}


def parse_date(value, field_name: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("日期格式有误", [FieldError(field_name, "日期应为 YYYY-MM-DD")]) from None


# -- proposed cases ---------------------------------------------------------------------------------------------
@dataclass
class ProposedCase:
    id: str
    application_id: str
    version_no: int
    review_id: str
    mine_id: str | None
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
    proposed_at: str | None
    status: str = "waiting"
    batch_id: str | None = None
    superseded_by: str | None = None
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def from_decision(cls, payload: Mapping) -> ProposedCase:
        mine, enterprise = payload.get("mine") or {}, payload.get("enterprise") or {}
        evaluation = payload.get("evaluation") or {}
        case = cls(id=payload["review_id"], application_id=payload["application_id"],
                   version_no=int(payload["version_no"]), review_id=payload["review_id"],
                   mine_id=mine.get("mine_id"), mine_name=mine.get("name") or "",
                   enterprise_name=enterprise.get("name") or "", credit_code=enterprise.get("credit_code"),
                   league=payload.get("league") or "", county=mine.get("county"),
                   minerals=list(mine.get("minerals") or []), scale=mine.get("scale"),
                   total=evaluation.get("total"), institution_name=evaluation.get("institution_name"),
                   case_no=payload.get("case_no"), proposed_at=payload.get("decided_at"))
        case.history.append({"at": payload.get("decided_at"), "by": payload.get("decided_by"),
                             "by_name": payload.get("decided_by_name") or "", "action": "proposed"})
        return case

    def public(self) -> dict:
        return {name: (list(getattr(self, name)) if name == "minerals" else getattr(self, name))
                for name in PUBLIC_FIELDS}

    def _move(self, status: str, at, by: str, batch_id: str | None = None, **more) -> None:
        self.status = status
        self.history.append({"at": _iso(at), "by": by, "by_name": more.pop("by_name", ""), "action": status,
                             "batch_id": batch_id, **more})

    def propose_again(self, payload: Mapping) -> bool:
        """The region proposed this review again after an objection upheld in its 公示 sent it back (its batch
        entry `returned`): it waits for a new batch with what the new decision says. Only a later decision does
        this (a replayed or older one changes nothing). True when it changed."""
        if self.status != "publicised" or not payload.get("decided_at") or \
                (self.proposed_at and payload["decided_at"] <= self.proposed_at):
            return False
        fresh = ProposedCase.from_decision(payload)
        self.total, self.institution_name, self.proposed_at = fresh.total, fresh.institution_name, fresh.proposed_at
        previous = self.batch_id
        self.batch_id = None
        self._move("waiting", payload["decided_at"], payload.get("decided_by") or "",
                   by_name=payload.get("decided_by_name") or "", previous_batch=previous, again=True)
        return True

    def supersede(self, newer_review_id: str, at) -> None:
        self.superseded_by = newer_review_id
        self._move("superseded", at, "system", newer=newer_review_id)

    def to_dict(self) -> dict:
        doc = {k: v for k, v in self.__dict__.items() if k not in ("id",)}
        return {"_id": self.id, **doc, "minerals": list(self.minerals), "history": list(self.history)}

    @classmethod
    def from_dict(cls, doc: Mapping) -> ProposedCase:
        doc = dict(doc)
        return cls(id=doc.pop("_id"), **doc)


# -- batches ----------------------------------------------------------------------------------------------------
@dataclass
class PublicityBatch:
    id: str
    title: str
    custom_title: bool
    working_days: int
    window_start: str
    window_end: str
    start_chosen: bool
    entries: list[dict]
    status: str = "draft"
    year: int | None = None
    created_by: str = ""
    created_at: datetime | None = None
    published_at: datetime | None = None
    published_by: str | None = None
    closed_on: str | None = None
    updated_at: datetime | None = None
    listings: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    # -- composing ----------------------------------------------------------------------------------------------
    @classmethod
    def compose(cls, batch_id: str, cases: Iterable[ProposedCase], *, title: str | None, working_days,
                start: date | None, calendar, today: date, n: int, at: datetime, by: str,
                by_name: str = "") -> PublicityBatch:
        days = check_working_days(working_days)
        chosen = start is not None
        start = start if chosen else first_start(calendar, today)
        check_start(calendar, start)
        title = (title or "").strip()
        batch = cls(id=batch_id, title=title or default_title(today.year, n), custom_title=bool(title),
                    working_days=days, window_start=start.isoformat(),
                    window_end=window_end(calendar, start, days).isoformat(), start_chosen=chosen,
                    entries=[_entry(c) for c in cases], created_by=by, created_at=at, updated_at=at)
        batch._log("composed", at, by, by_name, application_ids=batch.application_ids())
        return batch

    def application_ids(self) -> list[str]:
        return [e["application_id"] for e in self.entries]

    def _require_draft(self) -> None:
        if self.status != "draft":
            raise InvalidTransition(f"公示批次已{STATUS_LABELS.get(self.status, self.status)}，不能修改")

    def change(self, *, calendar, today: date, at: datetime, by: str, by_name: str = "", title=None,
               working_days=None, start: date | None = None, reset_start: bool = False,
               add: Iterable[ProposedCase] = (), remove: Iterable[str] = ()) -> list[str]:
        """Edit a draft; returns the application ids removed (their proposals wait again)."""
        self._require_draft()
        changed: dict = {}
        if title is not None:
            title = title.strip()
            self.custom_title = bool(title)
            self.title = title or self.title
            changed["title"] = self.title
        if working_days is not None:
            self.working_days = check_working_days(working_days)
            changed["working_days"] = self.working_days
        if start is not None:
            check_start(calendar, start)
            self.window_start, self.start_chosen = start.isoformat(), True
            changed["start_date"] = self.window_start
        elif reset_start:
            self.window_start, self.start_chosen = first_start(calendar, today).isoformat(), False
            changed["start_date"] = None
        remove = list(remove)
        unknown = [a for a in remove if a not in self.application_ids()]
        if unknown:
            raise InvalidInput("移出的矿山不在本批次", [FieldError("remove", "、".join(unknown))])
        self.entries = [e for e in self.entries if e["application_id"] not in remove]
        for case in add:
            if case.application_id not in self.application_ids():
                self.entries.append(_entry(case))
        if remove:
            changed["removed"] = list(remove)
        added = [c.application_id for c in add]
        if added:
            changed["added"] = added
        if not self.start_chosen:
            self.window_start = max(date.fromisoformat(self.window_start), first_start(calendar, today)).isoformat()
        self.window_end = window_end(calendar, date.fromisoformat(self.window_start), self.working_days).isoformat()
        self.updated_at = at
        self._log("changed", at, by, by_name, **changed)
        return list(remove)

    def publish(self, *, calendar, today: date, n: int, at: datetime, by: str, by_name: str = "") -> None:
        self._require_draft()
        if not self.entries:
            raise InvalidInput("公示批次中没有矿山", [FieldError("application_ids", "至少选择一座矿山后才能发布")])
        if not self.start_chosen:
            self.window_start = first_start(calendar, today).isoformat()
        start = date.fromisoformat(self.window_start)
        if start < today:
            raise InvalidInput("公示开始日期已过", [FieldError(
                "start_date", f"公示开始日期{cn_date(start)}早于今天（{cn_date(today)}），请重新选择")])
        check_start(calendar, start)
        self.window_end = window_end(calendar, start, self.working_days).isoformat()
        self.year = today.year
        if not self.custom_title:
            self.title = default_title(today.year, n)
        self.status, self.published_at, self.published_by, self.updated_at = "published", at, by, at
        for e in self.entries:
            e["state"] = "in_window"
        self._log("published", at, by, by_name, window_start=self.window_start, window_end=self.window_end)

    # -- the window by itself -----------------------------------------------------------------------------------
    def effective_status(self, today: date) -> str:
        if self.status in ("published", "open"):
            if today > date.fromisoformat(self.window_end):
                return "closed"
            if today >= date.fromisoformat(self.window_start):
                return "open"
        return self.status

    def advance(self, today: date, at: datetime) -> list[str]:
        """Open and/or close as the date says; returns the steps taken ("opened", "closed")."""
        steps = []
        target = self.effective_status(today)
        if self.status == "published" and target in ("open", "closed"):
            self.status = "open"
            self._log("opened", at, "system", "系统", on=self.window_start)
            steps.append("opened")
        if self.status == "open" and target == "closed":
            self.status, self.closed_on = "closed", today.isoformat()
            for e in self.entries:
                if e.get("state") == "in_window":
                    e["state"] = "objection" if e.get("open_objections") else (
                        "not_upheld" if e.get("objections") else "clear")
            self._log("closed", at, "system", "系统", on=self.closed_on)
            steps.append("closed")
        if steps:
            self.updated_at = at
        return steps

    def as_of(self, today: date) -> PublicityBatch:
        """A copy advanced to `today` (for reading: the right state even before the sweep has run)."""
        copy = PublicityBatch.from_dict(self.to_dict())
        copy.advance(today, datetime.combine(today, datetime.min.time()))
        return copy

    # -- what other areas ask of a batch ------------------------------------------------------------------------
    def accepts_objections(self, today: date) -> bool:
        return (self.effective_status(today) == "open"
                and date.fromisoformat(self.window_start) <= today <= date.fromisoformat(self.window_end))

    def _find(self, application_id: str) -> dict | None:
        return next((e for e in self.entries if e["application_id"] == application_id), None)

    def entry(self, application_id: str) -> dict | None:
        found = self._find(application_id)
        return dict(found) if found is not None else None

    def _must(self, application_id: str) -> dict:
        found = self._find(application_id)
        if found is None:
            raise InvalidInput("矿山不在本批次公示名单中", [FieldError("application_id", "所选矿山不在公示名单中")])
        return found

    def objection_filed(self, application_id: str, objection_id: str) -> None:
        e = self._must(application_id)
        if objection_id in e.setdefault("objections", []):
            return
        e["objections"].append(objection_id)
        e.setdefault("open_objections", []).append(objection_id)
        if e.get("state") == "clear":
            e["state"] = "objection"

    def objection_concluded(self, application_id: str, objection_id: str, upheld: bool, action: str | None,
                            at) -> None:
        e = self._must(application_id)
        open_ = e.setdefault("open_objections", [])
        if objection_id not in open_ and objection_id in e.get("upheld", []) + e.get("not_upheld", []):
            return  # a repeat
        if objection_id in open_:
            open_.remove(objection_id)
        e.setdefault("objections", [])
        if objection_id not in e["objections"]:
            e["objections"].append(objection_id)
        e.setdefault("upheld" if upheld else "not_upheld", []).append(objection_id)
        if upheld:
            e["state"] = "refused" if action == "refuse" else "returned"
            e["action"] = action or "return_to_region"
        elif e.get("state") in ("objection", "clear") and not open_:
            e["state"] = "not_upheld"
        e["concluded_at"] = _iso(at)
        self._log("objection_concluded", at, "system", "系统", application_id=application_id,
                  objection_id=objection_id, upheld=upheld, outcome_action=action)

    def listable(self) -> list[dict]:
        if self.status != "closed":
            return []
        return [dict(e) for e in self.entries
                if e.get("state") in LISTABLE and not e.get("open_objections") and not e.get("upheld")]

    def mark_listed(self, application_ids: Iterable[str], at, announcement_id: str) -> None:
        ids = list(application_ids)
        for app_id in ids:
            e = self._must(app_id)
            e["state"], e["listed_at"], e["announcement_id"] = "listed", _iso(at), announcement_id
        self.listings.append({"application_ids": ids, "at": _iso(at), "announcement_id": announcement_id})
        self._log("listed", at, "system", "系统", application_ids=ids, announcement_id=announcement_id)

    # -- views ----------------------------------------------------------------------------------------------------
    def counts(self) -> dict:
        out: dict = {}
        for e in self.entries:
            state = e.get("state") or "draft"
            out[state] = out.get(state, 0) + 1
        return out

    def public_view(self, today: date, calendar=None) -> dict:
        """What anybody may read (no objection ids, nothing about objectors). `days_left`: working days left in
        the window counting today (calendar days without a calendar)."""
        status = self.effective_status(today)
        end = date.fromisoformat(self.window_end)
        days_left = 0
        if status == "open":
            days_left = (calendar.working_days_between(today - timedelta(days=1), end) if calendar is not None
                         else (end - today).days + 1)
        return {"batch_id": self.id, "title": self.title, "year": self.year, "status": status,
                "status_label": STATUS_LABELS.get(status, status), "working_days": self.working_days,
                "window_start": self.window_start, "window_end": self.window_end,
                "published_at": _iso(self.published_at), "closed_on": self.closed_on,
                "accepts_objections": self.accepts_objections(today),
                "days_left": days_left,
                "mines": [{"application_id": e["application_id"], "mine_name": e.get("mine_name"),
                           "enterprise_name": e.get("enterprise_name"), "credit_code": e.get("credit_code"),
                           "league": e.get("league"), "county": e.get("county"),
                           "minerals": list(e.get("minerals") or []), "scale": e.get("scale"),
                           "scale_label": SCALE_LABELS.get(e.get("scale") or "", e.get("scale") or ""),
                           "total": e.get("total"), "case_no": e.get("case_no")} for e in self._ordered()]}

    def _ordered(self) -> list[dict]:
        return sorted(self.entries, key=lambda e: (e.get("league") or "", e.get("mine_name") or ""))

    def staff_view(self, today: date) -> dict:
        status = self.effective_status(today)
        return {"id": self.id, "batch_id": self.id, "title": self.title, "custom_title": self.custom_title,
                "year": self.year, "status": status, "status_label": STATUS_LABELS.get(status, status),
                "working_days": self.working_days, "window_start": self.window_start,
                "window_end": self.window_end, "start_chosen": self.start_chosen,
                "created_by": self.created_by, "created_at": _iso(self.created_at),
                "published_at": _iso(self.published_at), "published_by": self.published_by,
                "closed_on": self.closed_on, "counts": self.counts(),
                "entries": [{**{k: e.get(k) for k in PUBLIC_FIELDS}, "state": e.get("state"),
                             "state_label": ENTRY_STATES.get(e.get("state") or "", "待发布"),
                             "objections": len(e.get("objections") or []),
                             "open_objections": len(e.get("open_objections") or [])} for e in self._ordered()],
                "history": [{**h, "at": _iso(h.get("at"))} for h in self.history], "version": self.version}

    # -- storage --------------------------------------------------------------------------------------------------
    def _log(self, action: str, at, by: str, by_name: str = "", **detail) -> None:
        self.history.append({"at": _iso(at), "by": by, "by_name": by_name, "action": action, **detail})

    def to_dict(self) -> dict:
        doc = {k: v for k, v in self.__dict__.items() if k != "id"}
        doc["entries"] = [dict(e) for e in self.entries]
        return {"_id": self.id, **doc}

    @classmethod
    def from_dict(cls, doc: Mapping) -> PublicityBatch:
        doc = dict(doc)
        for name in ("created_at", "published_at", "updated_at"):
            doc[name] = _dt(doc.get(name))
        return cls(id=doc.pop("_id"), **doc)


def _entry(case: ProposedCase) -> dict:
    return {**case.public(), "state": None}
