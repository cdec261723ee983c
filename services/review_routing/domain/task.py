"""The department review task (审核任务) and its state machine.

```
open ──claim──► claimed ──give_opinion──► opinion_given ──give_opinion (supersedes)──► opinion_given
 ▲  ◄─unclaim──    │ ▲
 │                 │ └─transfer (转办, same department)
 └──transfer───────┘
open / claimed ──close (the case was decided or a newer version arrived)──► closed
```
* Reminders (催办) go to open or claimed tasks; they do not change the status.
* Overdue: an open or claimed task whose due date (working days) has passed. The overdue sweep flags it once
  and sends an automatic reminder every `remind_every_days` working days while it stays overdue.
* When the case is decided, every task of the version is finalised (`outcome`): open or claimed tasks are
  closed, tasks with an opinion keep it; nothing can be done on a finalised task any more.

Pure: every "now" is passed in; methods return the domain events they cause.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from review_routing.domain.access import Actor
from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition
from review_routing.domain.opinion import Opinion, parse_opinion
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar

STATUSES = {"open": "待认领", "claimed": "办理中", "opinion_given": "已出具意见", "closed": "已终止"}
ACTIONS = {"claim": "认领", "unclaim": "退回待认领", "transfer": "转办", "give_opinion": "出具审核意见",
           "remind": "催办", "close": "终止"}
TRANSITIONS = {
    ("open", "claim"): "claimed",
    ("claimed", "unclaim"): "open",
    ("open", "transfer"): "claimed",
    ("claimed", "transfer"): "claimed",
    ("claimed", "give_opinion"): "opinion_given",
    ("opinion_given", "give_opinion"): "opinion_given",
    ("open", "remind"): "open",
    ("claimed", "remind"): "claimed",
    ("open", "close"): "closed",
    ("claimed", "close"): "closed",
}
OUTCOMES = {"forwarded": "已通过初审", "returned": "已退回补正", "rejected": "初审不予通过",
            "superseded": "已被新版本替代"}
CLOSE_REASONS = {"case_forwarded": "申报已通过初审", "case_returned": "申报已退回补正",
                 "case_rejected": "申报初审不予通过", "superseded": "企业已提交新版本"}


def allowed_actions(status: str) -> list[str]:
    return [action for (state, action) in TRANSITIONS if state == status]


# --- domain events ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskEvent:
    kind: str           # claimed | unclaimed | transferred | opinion_recorded | reminded | overdue | closed
    task_id: str
    at: datetime
    actor: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reminder:
    no: int
    at: datetime
    by: str
    by_name: str
    message: str
    automatic: bool = False

    def to_dict(self) -> dict:
        return {"no": self.no, "at": self.at.isoformat(), "by": self.by, "by_name": self.by_name,
                "message": self.message, "automatic": self.automatic}

    @classmethod
    def from_dict(cls, d: Mapping) -> Reminder:
        return cls(d["no"], _dt(d["at"]), d["by"], d.get("by_name", d["by"]), d.get("message", ""),
                   bool(d.get("automatic", False)))


@dataclass(frozen=True)
class Transfer:
    at: datetime
    by: str
    from_user: str | None
    to_user: str
    to_name: str
    reason: str

    def to_dict(self) -> dict:
        return {"at": self.at.isoformat(), "by": self.by, "from_user": self.from_user, "to_user": self.to_user,
                "to_name": self.to_name, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: Mapping) -> Transfer:
        return cls(_dt(d["at"]), d["by"], d.get("from_user"), d["to_user"], d.get("to_name", d["to_user"]),
                   d.get("reason", ""))


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    detail: str = ""

    def to_dict(self) -> dict:
        return {"at": self.at.isoformat(), "actor": self.actor, "action": self.action, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: Mapping) -> HistoryEntry:
        return cls(_dt(d["at"]), d["actor"], d["action"], d.get("detail", ""))


def _dt(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _d(value) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(value)


def task_id_for(application_id: str, version_no: int, department: str) -> str:
    """Deterministic: a replayed submission can never make a second task."""
    return f"{application_id}.v{version_no}.{department}"


@dataclass
class ReviewTask:
    task_id: str
    application_id: str
    version_no: int
    department: str
    lead: bool
    league: str
    county: str
    catalog: str
    indicators: tuple[int, ...]
    prerequisites: tuple[str, ...]
    checks: tuple[str, ...]
    attachments: tuple[Mapping, ...]
    entries: Mapping[str, Mapping]
    not_applicable: tuple[int, ...]
    mine: Mapping[str, Any]
    enterprise: Mapping[str, Any]
    resubmission: bool
    routed_at: datetime
    due_date: date
    due_estimated: bool = False
    status: str = "open"
    claimed_by: str | None = None
    claimed_by_name: str | None = None
    claimed_at: datetime | None = None
    opinions: list[Opinion] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    overdue_since: date | None = None
    last_auto_reminder_on: date | None = None
    outcome: str | None = None
    closed_reason: str | None = None
    case_no: str | None = None          # the case's 办件编号 (intake), when it has one
    version: int | None = None          # storage version (optimistic concurrency), None before the first save

    # --- derived ------------------------------------------------------------------------------------------
    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def current_opinion(self) -> Opinion | None:
        return self.opinions[-1] if self.opinions else None

    @property
    def final(self) -> bool:
        return self.outcome is not None

    @property
    def pending(self) -> bool:
        """Still waiting for this department (no opinion yet, not closed)."""
        return self.status in ("open", "claimed") and not self.final

    def is_overdue(self, today: date) -> bool:
        return self.pending and today > self.due_date

    def days_overdue(self, calendar: WorkingCalendar, today: date) -> int:
        return calendar.working_days_between(self.due_date, today) if self.is_overdue(today) else 0

    # --- transitions ----------------------------------------------------------------------------------------
    def _require(self, action: str) -> str:
        if self.final:
            raise InvalidTransition(f"该申报版本已{OUTCOMES[self.outcome]}，任务已办结，不能{ACTIONS[action]}")
        target = TRANSITIONS.get((self.status, action))
        if target is None:
            allowed = "、".join(ACTIONS[a] for a in allowed_actions(self.status)) or "无"
            raise InvalidTransition(
                f"任务当前状态为“{self.status_label}”，不能{ACTIONS[action]}（当前可进行：{allowed}）")
        return target

    def _log(self, at: datetime, actor: Actor | str, action: str, detail: str = "") -> None:
        name = actor if isinstance(actor, str) else actor.username
        self.history.append(HistoryEntry(at, name, action, detail))

    def claim(self, actor: Actor, at: datetime) -> TaskEvent:
        self.status, self.claimed_by, self.claimed_by_name, self.claimed_at = (
            self._require("claim"), actor.username, actor.name, at)
        self._log(at, actor, "claim")
        return TaskEvent("claimed", self.task_id, at, actor.username, {"claimed_by": actor.username,
                                                                      "claimed_by_name": actor.name})

    def unclaim(self, actor: Actor, at: datetime) -> TaskEvent:
        target = self._require("unclaim")
        if self.claimed_by != actor.username:
            raise InvalidTransition(
                f"该任务由 {self.claimed_by_name or self.claimed_by} 办理，只有办理人可以退回待认领")
        self.status, self.claimed_by, self.claimed_by_name, self.claimed_at = target, None, None, None
        self._log(at, actor, "unclaim")
        return TaskEvent("unclaimed", self.task_id, at, actor.username, {"released_by": actor.username})

    def transfer(self, actor: Actor, to_user: str, to_name: str, reason: str, at: datetime) -> TaskEvent:
        """转办 to a colleague; the caller has checked that the colleague may work this task."""
        target = self._require("transfer")
        errors = []
        if not to_user:
            errors.append(FieldError("to_user", "请选择转办对象"))
        elif to_user == self.claimed_by:
            errors.append(FieldError("to_user", "该任务已由此人办理"))
        reason = (reason or "").strip()
        if not reason:
            errors.append(FieldError("reason", "请填写转办原因"))
        elif len(reason) > 500:
            errors.append(FieldError("reason", "转办原因不能超过 500 字"))
        if errors:
            raise InvalidInput("转办信息有误", errors)
        if self.status == "claimed" and self.claimed_by != actor.username:
            raise InvalidTransition(
                f"该任务由 {self.claimed_by_name or self.claimed_by} 办理，只有办理人可以转办")
        previous = self.claimed_by
        self.transfers.append(Transfer(at, actor.username, previous, to_user, to_name, reason))
        self.status, self.claimed_by, self.claimed_by_name, self.claimed_at = target, to_user, to_name, at
        self._log(at, actor, "transfer", f"{previous or '待认领'} → {to_user}:{reason}")
        return TaskEvent("transferred", self.task_id, at, actor.username,
                         {"from_user": previous, "to_user": to_user, "to_name": to_name, "reason": reason})

    def give_opinion(self, actor: Actor, data: Mapping, *, indicator_points: Mapping[int, Decimal],
                     photo_ids, today: date, at: datetime, opinion_id: str,
                     indicator_names: Mapping[int, str] | None = None,
                     prerequisite_names: Mapping[str, str] | None = None) -> tuple[Opinion, TaskEvent]:
        """Record an opinion judging every item of the task (`parse_opinion` has the rules); the enterprise's
        self-assessment entries are what a score is compared with."""
        target = self._require("give_opinion")
        if self.status == "claimed" and self.claimed_by != actor.username:
            raise InvalidTransition(
                f"该任务由 {self.claimed_by_name or self.claimed_by} 办理，请先由其转办给您")
        previous = self.current_opinion
        opinion = parse_opinion(
            data, indicator_points=indicator_points, prerequisites=self.prerequisites, checks=self.checks,
            lead=self.lead, photo_ids=photo_ids, today=today, opinion_id=opinion_id,
            sequence=len(self.opinions) + 1, given_by=actor.username, given_by_name=actor.name, given_at=at,
            supersedes=previous.opinion_id if previous else None, claims=self.entries,
            declared_not_applicable=self.not_applicable, indicator_names=indicator_names,
            prerequisite_names=prerequisite_names)
        self.status, self.opinions = target, [*self.opinions, opinion]
        if self.claimed_by is None:
            self.claimed_by, self.claimed_by_name, self.claimed_at = actor.username, actor.name, at
        self._log(at, actor, "give_opinion", opinion.decision_label + (
            f"（替代第 {previous.sequence} 次意见）" if previous else ""))
        return opinion, TaskEvent("opinion_recorded", self.task_id, at, actor.username,
                                  {"opinion": opinion})

    def remind(self, actor: Actor | None, message: str, at: datetime, *, automatic: bool = False) -> TaskEvent:
        self._require("remind")
        message = (message or "").strip() or ("任务已逾期，请尽快办理" if automatic else "请尽快办理")
        if len(message) > 500:
            raise InvalidInput("催办内容有误", [FieldError("message", "催办内容不能超过 500 字")])
        by = actor.username if actor else "system"
        by_name = actor.name if actor else "系统自动催办"
        reminder = Reminder(len(self.reminders) + 1, at, by, by_name, message, automatic)
        self.reminders.append(reminder)
        self._log(at, by, "remind", message)
        return TaskEvent("reminded", self.task_id, at, by, {"reminder": reminder})

    def flag_overdue(self, calendar: WorkingCalendar, policy: DeadlinePolicy, today: date,
                     at: datetime) -> list[TaskEvent]:
        """The overdue sweep, on working days only (nobody is reminded on a holiday): flag once, then remind
        automatically every `remind_every_days` working days while the task stays overdue."""
        if not self.is_overdue(today) or not calendar.is_workday(today):
            return []
        events = []
        if self.overdue_since is None:
            self.overdue_since = today
            self._log(at, "system", "overdue", f"已超过办理期限 {self.due_date.isoformat()}")
            events.append(TaskEvent("overdue", self.task_id, at, "system",
                                    {"due_date": self.due_date,
                                     "days_overdue": self.days_overdue(calendar, today)}))
        last = self.last_auto_reminder_on
        if last is None or calendar.working_days_between(last, today) >= policy.remind_every_days:
            self.last_auto_reminder_on = today
            events.append(self.remind(None, f"任务已于 {self.due_date.isoformat()} 到期，逾期 "
                                            f"{self.days_overdue(calendar, today)} 个工作日，请尽快办理", at,
                                      automatic=True))
        return events

    def finalise(self, outcome: str, at: datetime, actor: str) -> TaskEvent | None:
        """The case version was decided (or superseded): close what is pending, lock the rest."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome}")
        if self.final:
            return None
        event = None
        if self.status in ("open", "claimed"):
            reason = {"forwarded": "case_forwarded", "returned": "case_returned", "rejected": "case_rejected",
                      "superseded": "superseded"}[outcome]
            self.status, self.closed_reason = self._require("close"), reason
            self._log(at, actor, "close", CLOSE_REASONS[reason])
            event = TaskEvent("closed", self.task_id, at, actor, {"reason": reason})
        self.outcome = outcome
        return event

    # --- storage form ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "_id": self.task_id, "application_id": self.application_id, "version_no": self.version_no,
            "department": self.department, "lead": self.lead, "league": self.league, "county": self.county,
            "catalog": self.catalog, "indicators": list(self.indicators),
            "prerequisites": list(self.prerequisites), "checks": list(self.checks),
            "attachments": [dict(a) for a in self.attachments],
            "entries": {k: dict(v) for k, v in self.entries.items()},
            "not_applicable": list(self.not_applicable), "mine": dict(self.mine),
            "enterprise": dict(self.enterprise), "resubmission": self.resubmission,
            "routed_at": self.routed_at.isoformat(), "due_date": self.due_date.isoformat(),
            "due_estimated": self.due_estimated, "status": self.status, "claimed_by": self.claimed_by,
            "claimed_by_name": self.claimed_by_name,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "opinions": [o.to_dict() for o in self.opinions],
            "reminders": [r.to_dict() for r in self.reminders],
            "transfers": [t.to_dict() for t in self.transfers],
            "history": [h.to_dict() for h in self.history],
            "overdue_since": self.overdue_since.isoformat() if self.overdue_since else None,
            "last_auto_reminder_on": self.last_auto_reminder_on.isoformat() if self.last_auto_reminder_on else None,
            "outcome": self.outcome, "closed_reason": self.closed_reason, "case_no": self.case_no,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> ReviewTask:
        return cls(
            task_id=d["_id"], application_id=d["application_id"], version_no=int(d["version_no"]),
            department=d["department"], lead=bool(d["lead"]), league=d["league"], county=d.get("county", ""),
            catalog=d["catalog"], indicators=tuple(d["indicators"]), prerequisites=tuple(d["prerequisites"]),
            checks=tuple(d.get("checks", ())), attachments=tuple(d.get("attachments", ())),
            entries=dict(d.get("entries", {})), not_applicable=tuple(d.get("not_applicable", ())),
            mine=dict(d.get("mine", {})), enterprise=dict(d.get("enterprise", {})),
            resubmission=bool(d.get("resubmission", False)), routed_at=_dt(d["routed_at"]),
            due_date=_d(d["due_date"]), due_estimated=bool(d.get("due_estimated", False)),
            status=d["status"], claimed_by=d.get("claimed_by"), claimed_by_name=d.get("claimed_by_name"),
            claimed_at=_dt(d["claimed_at"]) if d.get("claimed_at") else None,
            opinions=[Opinion.from_dict(o) for o in d.get("opinions", ())],
            reminders=[Reminder.from_dict(r) for r in d.get("reminders", ())],
            transfers=[Transfer.from_dict(t) for t in d.get("transfers", ())],
            history=[HistoryEntry.from_dict(h) for h in d.get("history", ())],
            overdue_since=_d(d.get("overdue_since")), last_auto_reminder_on=_d(d.get("last_auto_reminder_on")),
            outcome=d.get("outcome"), closed_reason=d.get("closed_reason"), case_no=d.get("case_no"),
            version=d.get("version"))
