"""The review case (one per application): its submitted versions, their tasks, the countersign (会签) and the
lead bureau's decision (初审决定), and the re-scored assessment the decision is taken on.

* A submission (or resubmission) of version n creates the version and its tasks, once: an older or equal
  version number changes nothing. A version still under review when a newer one arrives is superseded.
* Decisions, on the latest version while it is under review, by the bureau of the case's 盟市:
  - forward (通过, 报自治区): only when every task of the version holds an "agree" opinion, the
    re-scored assessment qualifies (达标), and every binding (约束性) indicator that is 不涉及 in it was
    confirmed 不涉及 (verdict `not_applicable`) by every department whose task holds it — 所有约束性指标必须
    得满分, so 不涉及 needs the responsible department's confirmation (an opinion recorded before verdicts
    existed that carries no N/A judgement reads "agree": it is not a confirmation);
  - return (退回补正): with at least one reason, each naming an indicator, prerequisite or check (or none,
    for a general reason); the enterprise corrects and resubmits, which routes the next version;
  - reject (不予通过): with at least one reason.
  Deciding finalises every task of the version (pending ones are closed).
* Re-scoring: the enterprise's self-assessment with the reviewers' entries laid over it. Where several
  departments scored one indicator, the lead bureau's entry wins (初审责任主体); otherwise the lowest score;
  a score beats a not-applicable judgement (a department says the item applies). A prerequisite any
  department finds unmet is unmet.

Pure: no I/O.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from review_routing.domain.access import Actor
from review_routing.domain.checks import CHECK_CODES
from review_routing.domain.checks import check as check_by_code
from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition
from review_routing.domain.routing import MineProfile, RoutingResult, TaskPlan, route
from review_routing.domain.task import ReviewTask, TaskEvent, _dt, task_id_for
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar, beijing_date
from shared.catalog import Catalog
from shared.decimals import plain

VERSION_STATUSES = {"under_review": "审核中", "forwarded": "已通过初审（报自治区）", "returned": "已退回补正",
                    "rejected": "初审不予通过", "superseded": "已被新版本替代"}
DECISIONS = {"forward": "forwarded", "return": "returned", "reject": "rejected"}
DECISION_LABELS = {"forwarded": "通过（报自治区自然资源厅）", "returned": "退回补正", "rejected": "不予通过"}
MAX_REASONS = 100


@dataclass(frozen=True)
class Reason:
    text: str
    indicator: int | None = None
    prerequisite: str | None = None
    check: str | None = None

    def to_dict(self) -> dict:
        return {"indicator": self.indicator, "prerequisite": self.prerequisite, "check": self.check,
                "text": self.text}

    @classmethod
    def from_dict(cls, d: Mapping) -> Reason:
        return cls(d["text"], d.get("indicator"), d.get("prerequisite"), d.get("check"))

    @property
    def subject(self) -> str:
        if self.indicator is not None:
            return f"第{self.indicator}项指标"
        if self.prerequisite:
            return f"先决条件{self.prerequisite}"
        if self.check:
            return f"初审内容{check_by_code(self.check).item}"
        return "总体"


@dataclass(frozen=True)
class Decision:
    decision: str              # forwarded | returned | rejected
    reasons: tuple[Reason, ...]
    decided_by: str
    decided_by_name: str
    decided_at: datetime
    report: Mapping | None = None

    @property
    def label(self) -> str:
        return DECISION_LABELS[self.decision]

    def to_dict(self) -> dict:
        return {"decision": self.decision, "reasons": [r.to_dict() for r in self.reasons],
                "decided_by": self.decided_by, "decided_by_name": self.decided_by_name,
                "decided_at": self.decided_at.isoformat(), "report": self.report}

    @classmethod
    def from_dict(cls, d: Mapping) -> Decision:
        return cls(d["decision"], tuple(Reason.from_dict(r) for r in d.get("reasons", ())), d["decided_by"],
                   d.get("decided_by_name", d["decided_by"]), _dt(d["decided_at"]), d.get("report"))


@dataclass(frozen=True)
class TaskRef:
    task_id: str
    department: str
    lead: bool

    def to_dict(self) -> dict:
        return {"task_id": self.task_id, "department": self.department, "lead": self.lead}


@dataclass
class CaseVersion:
    version_no: int
    resubmission: bool
    submitted_at: datetime
    submitted_by: str
    routed_at: datetime
    assessment: Mapping[str, Any]
    attachments: tuple[Mapping, ...]
    tasks: tuple[TaskRef, ...]
    applicable_indicators: tuple[int, ...]
    warnings: tuple[str, ...] = ()
    status: str = "under_review"
    decision: Decision | None = None
    self_report: Mapping | None = None

    @property
    def status_label(self) -> str:
        return VERSION_STATUSES[self.status]

    def to_dict(self) -> dict:
        return {"version_no": self.version_no, "resubmission": self.resubmission,
                "submitted_at": self.submitted_at.isoformat(), "submitted_by": self.submitted_by,
                "routed_at": self.routed_at.isoformat(), "assessment": copy.deepcopy(dict(self.assessment)),
                "attachments": [dict(a) for a in self.attachments], "tasks": [t.to_dict() for t in self.tasks],
                "applicable_indicators": list(self.applicable_indicators), "warnings": list(self.warnings),
                "status": self.status, "decision": self.decision.to_dict() if self.decision else None,
                "self_report": self.self_report}

    @classmethod
    def from_dict(cls, d: Mapping) -> CaseVersion:
        return cls(version_no=d["version_no"], resubmission=d["resubmission"], submitted_at=_dt(d["submitted_at"]),
                   submitted_by=d["submitted_by"], routed_at=_dt(d["routed_at"]), assessment=d["assessment"],
                   attachments=tuple(d.get("attachments", ())),
                   tasks=tuple(TaskRef(t["task_id"], t["department"], t["lead"]) for t in d["tasks"]),
                   applicable_indicators=tuple(d.get("applicable_indicators", ())),
                   warnings=tuple(d.get("warnings", ())), status=d["status"],
                   decision=Decision.from_dict(d["decision"]) if d.get("decision") else None,
                   self_report=d.get("self_report"))


@dataclass(frozen=True)
class Routed:
    """What routing a submission produced: the new version, its tasks, and the tasks it superseded."""
    version: CaseVersion
    tasks: tuple[ReviewTask, ...]
    routing: RoutingResult
    superseded: int | None = None       # the version still under review that this one replaced


@dataclass
class ReviewCase:
    application_id: str
    league: str
    county: str
    catalog: str
    enterprise: Mapping[str, Any]
    mine: Mapping[str, Any]
    versions: list[CaseVersion] = field(default_factory=list)
    version: int | None = None      # storage version
    case_no: str | None = None      # 办件编号 given by intake on the first submission (kept across versions)

    @property
    def latest(self) -> CaseVersion | None:
        return self.versions[-1] if self.versions else None

    def version_of(self, version_no: int) -> CaseVersion:
        for v in self.versions:
            if v.version_no == version_no:
                return v
        raise KeyError(f"申报 {self.application_id} 没有第 {version_no} 版")

    @property
    def status(self) -> str:
        return self.latest.status if self.latest else "under_review"

    # --- routing --------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, payload: Mapping) -> ReviewCase:
        profile = MineProfile.from_submission(payload["mine"], payload.get("assessment"))
        return cls(application_id=payload["application_id"], league=profile.league, county=profile.county,
                   catalog=payload["catalog"], enterprise=dict(payload["enterprise"]), mine=dict(payload["mine"]),
                   case_no=payload.get("case_no") or None)

    def receive(self, payload: Mapping, catalog: Catalog, calendar: WorkingCalendar, policy: DeadlinePolicy,
                at: datetime) -> Routed | None:
        """Route a submitted version. None when this version (or a newer one) was routed already."""
        version_no = int(payload["version_no"])
        if self.latest is not None and version_no <= self.latest.version_no:
            return None
        profile = MineProfile.from_submission(payload["mine"], payload.get("assessment"))
        result = route(catalog, profile, payload.get("assessment"), payload.get("attachments") or ())
        routed_on = beijing_date(at)
        resubmission = bool(payload.get("resubmission")) or bool(self.versions)
        tasks = []
        for plan in result.tasks:
            due = policy.task_due(calendar, routed_on, plan.lead, resubmission)
            tasks.append(new_task(plan, payload, profile, resubmission, at, due,
                                  calendar.estimated_between(routed_on, due)))
        superseded = None
        if self.latest is not None and self.latest.status == "under_review":
            self.latest.status, superseded = "superseded", self.latest.version_no
        self.league, self.county, self.catalog = profile.league, profile.county, payload["catalog"]
        self.mine, self.enterprise = dict(payload["mine"]), dict(payload["enterprise"])
        self.case_no = payload.get("case_no") or self.case_no
        for task in tasks:
            task.case_no = self.case_no
        version = CaseVersion(
            version_no=version_no, resubmission=resubmission, submitted_at=_dt(payload["submitted_at"]),
            submitted_by=payload["submitted_by"], routed_at=at,
            assessment=copy.deepcopy(dict(payload.get("assessment") or {})),
            attachments=tuple(dict(a) for a in payload.get("attachments") or ()),
            tasks=tuple(TaskRef(t.task_id, t.department, t.lead) for t in tasks),
            applicable_indicators=result.applicable_indicators, warnings=result.warnings)
        self.versions.append(version)
        return Routed(version, tuple(tasks), result, superseded)

    # --- the decision ---------------------------------------------------------------------------------------
    def decide(self, version_no: int, decision: str, reasons: Any, actor: Actor, at: datetime,
               tasks: Iterable[ReviewTask], report: Mapping | None, catalog: Catalog,
               department_name: Callable[[str], str]) -> tuple[Decision, list[TaskEvent]]:
        version = self.version_of(version_no)
        if version is not self.latest or version.status != "under_review":
            raise InvalidTransition(f"第 {version_no} 版申报当前为“{version.status_label}”，不能再作初审决定")
        if decision not in DECISIONS:
            raise InvalidInput("初审决定有误", [FieldError(
                "decision", "请选择初审决定：通过、退回补正或不予通过")])
        parsed = parse_reasons(reasons, version.applicable_indicators, catalog.prerequisite_codes)
        outcome = DECISIONS[decision]
        tasks = [t for t in tasks if t.version_no == version_no and t.application_id == self.application_id]
        if outcome == "forwarded":
            waiting = [t for t in tasks if not (t.current_opinion and t.current_opinion.decision == "agree")]
            if waiting:
                names = "、".join(f"{department_name(t.department)}（{describe(t)}）" for t in waiting)
                raise InvalidTransition(f"各部门均同意后才能通过初审。尚未同意：{names}")
            if report is None:
                raise InvalidTransition("未取得按审核意见重新评分的结果，不能通过初审")
            if report.get("verdict") != "qualified":
                raise InvalidTransition("按审核意见重新评分的结果为“" + str(report.get("verdict_label") or
                                        report.get("verdict")) + "”" + verdict_detail(report) +
                                        "，不能通过初审，请退回补正或不予通过")
            unconfirmed = unconfirmed_not_applicable(report, tasks, version.applicable_indicators, catalog)
            if unconfirmed:
                items = "；".join(
                    f"第{no}项「{catalog.indicator(no).name}」（尚未确认：" + "、".join(
                        f"{department_name(t.department)}（{_item_verdict(t, no)}）" for t in waiting_on) + "）"
                    for no, waiting_on in unconfirmed.items())
                raise InvalidTransition("约束性指标须得满分，判定为不涉及须经负责该项的部门确认不涉及，不能通过初审。"
                                        f"未经确认：{items}")
        elif not parsed:
            raise InvalidInput("初审决定有误", [FieldError(
                "reasons", "退回补正须逐项写明需补正的内容" if outcome == "returned" else "不予通过须写明理由")])
        result = Decision(outcome, tuple(parsed), actor.username, actor.name, at,
                          dict(report) if report is not None else None)
        version.status, version.decision = outcome, result
        events = [e for e in (t.finalise(outcome, at, actor.username) for t in tasks) if e is not None]
        return result, events

    # --- storage --------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"_id": self.application_id, "league": self.league, "county": self.county,
                "catalog": self.catalog, "enterprise": dict(self.enterprise), "mine": dict(self.mine),
                "versions": [v.to_dict() for v in self.versions],
                "latest_version": self.latest.version_no if self.latest else None,
                "status": self.status, "case_no": self.case_no}

    @classmethod
    def from_dict(cls, d: Mapping) -> ReviewCase:
        return cls(application_id=d["_id"], league=d["league"], county=d.get("county", ""),
                   catalog=d["catalog"], enterprise=d.get("enterprise", {}), mine=d.get("mine", {}),
                   versions=[CaseVersion.from_dict(v) for v in d.get("versions", ())], version=d.get("version"),
                   case_no=d.get("case_no"))


def new_task(plan: TaskPlan, payload: Mapping, profile: MineProfile, resubmission: bool, at: datetime,
             due: date, estimated: bool) -> ReviewTask:
    return ReviewTask(
        task_id=task_id_for(payload["application_id"], int(payload["version_no"]), plan.department),
        application_id=payload["application_id"], version_no=int(payload["version_no"]),
        department=plan.department, lead=plan.lead, league=profile.league, county=profile.county,
        catalog=payload["catalog"], indicators=plan.indicators, prerequisites=plan.prerequisites,
        checks=plan.checks, attachments=tuple(dict(a) for a in plan.attachments),
        entries={k: dict(v) for k, v in plan.entries.items()}, not_applicable=plan.not_applicable,
        mine=dict(payload["mine"]), enterprise=dict(payload["enterprise"]), resubmission=resubmission,
        routed_at=at, due_date=due, due_estimated=estimated)


def unconfirmed_not_applicable(report: Mapping, tasks: Iterable[ReviewTask], applicable: Iterable[int],
                               catalog: Catalog) -> dict[int, list[ReviewTask]]:
    """Binding indicators 不涉及 in the re-scored report → the tasks holding each whose current opinion has not
    confirmed it 不涉及 (verdict `not_applicable`); only those with such tasks, ascending."""
    applicable = set(applicable)
    out: dict[int, list[ReviewTask]] = {}
    for no in sorted(set(report.get("not_applicable_binding") or ()) & applicable):
        if not catalog.indicator(no).binding:
            continue
        waiting = [t for t in sorted(tasks, key=lambda t: (not t.lead, t.department)) if no in t.indicators
                   and not _confirms_not_applicable(t, no)]
        if waiting:
            out[no] = waiting
    return out


def _confirms_not_applicable(task: ReviewTask, no: int) -> bool:
    opinion = task.current_opinion
    item = opinion.indicator(no) if opinion is not None else None
    return item is not None and item.verdict == "not_applicable"


def _item_verdict(task: ReviewTask, no: int) -> str:
    opinion = task.current_opinion
    item = opinion.indicator(no) if opinion is not None else None
    if item is None:
        return "未对该项表态"
    return f"意见为“{item.verdict_label}”"


def describe(task: ReviewTask) -> str:
    opinion = task.current_opinion
    if opinion is not None:
        return f"意见为“{opinion.decision_label}”"
    return task.status_label


def verdict_detail(report: Mapping) -> str:
    parts = []
    if report.get("failed_prerequisites"):
        parts.append("先决条件 " + "、".join(report["failed_prerequisites"]) + " 不满足")
    if report.get("failed_binding"):
        parts.append("约束性指标 " + "、".join(str(n) for n in report["failed_binding"]) + " 未得满分")
    if report.get("total") is not None:
        parts.append(f"总分 {report['total']}")
    return "（" + "；".join(parts) + "）" if parts else ""


def parse_reasons(raw: Iterable[Mapping] | None, indicators: Iterable[int], prerequisites: Iterable[str]
                  ) -> list[Reason]:
    """Check the reasons of a decision against the version (their shape and JSON types are the decision body's,
    `entrypoints/schemas.py`); raises InvalidInput naming every problem."""
    if raw is None:
        return []
    raw = list(raw)
    if len(raw) > MAX_REASONS:
        raise InvalidInput("初审决定有误", [FieldError("reasons", f"理由最多 {MAX_REASONS} 条")])
    indicators, prerequisites = set(indicators), set(prerequisites)
    errors, out = [], []
    for n, item in enumerate(raw):
        where = f"reasons[{n}]"
        text = (item.get("text") or "").strip()
        if not text:
            errors.append(FieldError(f"{where}.text", "请写明理由"))
        elif len(text) > 2000:
            errors.append(FieldError(f"{where}.text", "理由不能超过 2000 字"))
        indicator, prerequisite, check = item.get("indicator"), item.get("prerequisite"), item.get("check")
        given = [x for x in (indicator, prerequisite, check) if x not in (None, "")]
        if len(given) > 1:
            errors.append(FieldError(where, "每条理由只能对应一项指标、先决条件或初审内容"))
            continue
        if indicator not in (None, "") and indicator not in indicators:
            errors.append(FieldError(f"{where}.indicator", f"第 {indicator} 项指标不适用于本矿山"))
            continue
        if prerequisite not in (None, "") and prerequisite not in prerequisites:
            errors.append(FieldError(f"{where}.prerequisite", f"没有先决条件 {prerequisite}"))
            continue
        if check not in (None, "") and check not in CHECK_CODES:
            errors.append(FieldError(f"{where}.check", f"没有初审内容 {check}"))
            continue
        if text:
            out.append(Reason(text, indicator if indicator not in (None, "") else None,
                              prerequisite or None, check or None))
    if errors:
        raise InvalidInput("初审决定有误", errors)
    return out


# --- re-scoring -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntrySource:
    department: str
    lead: bool
    score: Decimal | None
    not_applicable: bool
    reason: str
    record: str
    opinion: str


def reviewer_entries(tasks: Iterable[ReviewTask]) -> dict[int, list[EntrySource]]:
    """Indicator → the entries (scores / N/A judgements) of the current opinions, lead first."""
    found: dict[int, list[EntrySource]] = {}
    for task in sorted(tasks, key=lambda t: (not t.lead, t.department)):
        opinion = task.current_opinion
        if opinion is None:
            continue
        for item in opinion.indicators:
            if item.gives_entry:
                found.setdefault(item.indicator, []).append(EntrySource(
                    task.department, task.lead, item.score, item.not_applicable, item.reason, item.record,
                    item.opinion))
    return found


def chosen_entry(sources: list[EntrySource]) -> EntrySource:
    lead = [s for s in sources if s.lead]
    if lead:
        return lead[0]
    scored = [s for s in sources if s.score is not None]
    if scored:
        return min(scored, key=lambda s: s.score)
    return sources[0]


def rescore(assessment: Mapping, tasks: Iterable[ReviewTask],
            department_name: Callable[[str], str] = lambda code: code) -> dict:
    """The self-assessment with the reviewers' entries laid over it (see the module docstring)."""
    tasks = list(tasks)
    result = copy.deepcopy(dict(assessment))
    indicators = result.setdefault("indicators", {})
    for no, sources in reviewer_entries(tasks).items():
        chosen = chosen_entry(sources)
        if chosen.score is not None:
            entry: dict[str, Any] = {"score": plain(chosen.score)}
        else:
            reasons = [s.reason for s in sources if s.not_applicable and s.reason]
            entry = {"not_applicable": True, "reason": "；".join(dict.fromkeys(reasons))}
        records = [f"{department_name(s.department)}：{s.record or s.opinion}" for s in sources
                   if s.record or s.opinion]
        if records:
            entry["record"] = "；".join(records)
        elif isinstance(indicators.get(str(no)), Mapping) and indicators[str(no)].get("record"):
            entry["record"] = indicators[str(no)]["record"]
        indicators[str(no)] = entry
    prerequisites = result.setdefault("prerequisites", {})
    for task in tasks:
        opinion = task.current_opinion
        for finding in (opinion.prerequisites if opinion else ()):
            if not finding.met:
                prerequisites[finding.prerequisite] = False
    return result


# --- countersign overview ---------------------------------------------------------------------------------------
def countersign_rows(tasks: Iterable[ReviewTask], calendar: WorkingCalendar, today: date) -> list[dict]:
    rows = []
    for task in sorted(tasks, key=lambda t: (not t.lead, t.department)):
        opinion = task.current_opinion
        rows.append({
            "task_id": task.task_id, "department": task.department, "lead": task.lead,
            "status": task.status, "status_label": task.status_label, "claimed_by": task.claimed_by,
            "claimed_by_name": task.claimed_by_name, "due_date": task.due_date.isoformat(),
            "overdue": task.is_overdue(today), "days_overdue": task.days_overdue(calendar, today),
            "reminders": len(task.reminders),
            "decision": opinion.decision if opinion else None,
            "decision_label": opinion.decision_label if opinion else None,
            "given_at": opinion.given_at.isoformat() if opinion else None,
            "given_by_name": opinion.given_by_name if opinion else None,
            "opinions": len(task.opinions),
        })
    return rows


def decision_due(tasks: Iterable[ReviewTask], calendar: WorkingCalendar, policy: DeadlinePolicy) -> date | None:
    """When the bureau should decide: `decision_days` working days after the last first opinion came in."""
    tasks = list(tasks)
    if not tasks or any(not t.opinions for t in tasks):
        return None
    last = max(beijing_date(t.opinions[0].given_at) for t in tasks)
    return policy.decision_due(calendar, last)
