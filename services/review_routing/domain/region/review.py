"""`RegionReview`: one forwarded case version (初审通过, 报自治区) through the region stage, up to the region decision.

    awaiting_commission ──commission──► commissioned ──accepted──► under_evaluation ──report──► evaluated
          ▲                                  │ declined / expired / withdrawn
          └──────────────────────────────────┘
    evaluated ──check round opened──► in_check ──round finished──► checked ──decide──► proposed | returned | rejected

* Each step has a due date in working days on the official calendar (`shared.workdays.DeadlinePolicy`, counted
  from the day the step began); a step past its date is overdue, flagged and reminded like an initial-review task.
* Flags (a spot check contradicting the evaluator, an evaluation under review) block the proposal for 公示 until
  the region office clears them with a reason.
* The decision (by the region office):
  - propose (拟公示): the evaluation is submitted and 达标, the check is finished and passed, no flag is open, and
    every binding indicator the evaluator judged 不涉及 was also confirmed 不涉及 by its departments at the initial
    review ("所有约束性指标必须得满分": a binding item escapes the full-marks rule only when both confirm it);
  - return (退回整改): at least one reason, each naming an indicator (or none: a general reason);
  - reject (不予通过): at least one reason.
Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from review_routing.domain.access import Actor
from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition
from review_routing.domain.task import _dt
from shared.workdays import DeadlinePolicy, WorkingCalendar, beijing_date

STATUSES = {
    "awaiting_commission": "待委托评估",
    "commissioned": "已委托，待评估机构接受",
    "under_evaluation": "现场评估中",
    "evaluated": "评估报告已提交，待核查",
    "in_check": "资料核查与抽查中",
    "checked": "核查完毕，待决定",
    "proposed": "拟公示",
    "returned": "退回整改",
    "rejected": "不予通过",
}
# The step whose deadline runs in each open status (DeadlinePolicy.region_step_days).
STEP_OF = {"awaiting_commission": "commission", "commissioned": "accept", "under_evaluation": "evaluation",
           "evaluated": "check", "in_check": "check", "checked": "decision"}
STEP_LABELS = {"commission": "委托评估机构", "accept": "评估机构接受委托", "evaluation": "现场评估并提交报告",
               "check": "资料核查与抽查", "decision": "自治区决定"}
OUTCOMES = {"propose": "proposed", "return": "returned", "reject": "rejected"}
OUTCOME_LABELS = {"proposed": "拟公示（评估与核查通过）", "returned": "退回企业整改", "rejected": "不予通过"}
DECIDABLE = ("evaluated", "in_check", "checked")
MAX_REASONS = 100
MAX_TEXT = 2000


@dataclass(frozen=True)
class RegionReason:
    text: str
    indicator: int | None = None

    def to_dict(self) -> dict:
        return {"indicator": self.indicator, "text": self.text}

    @property
    def subject(self) -> str:
        return f"第{self.indicator}项指标" if self.indicator is not None else "总体"


@dataclass
class RegionReview:
    application_id: str
    version_no: int
    league: str
    enterprise: Mapping[str, Any]          # {id, name, credit_code}
    mine: Mapping[str, Any]                # {mine_id, name, minerals, scale, industry_group, mining_method, county}
    catalog_id: str
    forwarded_at: datetime
    forwarded_by: str
    initial_report: Mapping[str, Any] | None   # the re-scored report the bureau forwarded on (total, verdict, …)
    confirmed_not_applicable: tuple[int, ...]  # indicators confirmed 不涉及 by their departments at the initial review
    binding: tuple[int, ...] = ()          # the binding (约束性) indicators of the mine's branch
    case_no: str | None = None
    status: str = "awaiting_commission"
    step_started_on: date | None = None
    due_date: date | None = None
    overdue_since: date | None = None
    reminders: list[dict] = field(default_factory=list)
    commission_id: str | None = None
    institution: Mapping[str, Any] | None = None          # {id, name}
    evaluation: Mapping[str, Any] | None = None           # {evaluation_id, assessment_id, total, verdict,
    #                                                        not_applicable: [...], submitted_at}
    check_round_id: str | None = None
    check: Mapping[str, Any] | None = None                # {round_id, passed, spot_checked, contradiction, …}
    flags: list[dict] = field(default_factory=list)       # {code, text, at, cleared_at, cleared_by, reason}
    decision: Mapping[str, Any] | None = None
    history: list[dict] = field(default_factory=list)     # {at, action, by, text}
    version: int | None = None

    # -- identity -------------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return review_id(self.application_id, self.version_no)

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def step(self) -> str | None:
        return STEP_OF.get(self.status)

    @property
    def decided(self) -> bool:
        return self.status in OUTCOMES.values()

    @property
    def open_flags(self) -> list[dict]:
        return [f for f in self.flags if not f.get("cleared_at")]

    def is_overdue(self, today: date) -> bool:
        return not self.decided and self.due_date is not None and today > self.due_date

    # -- opening --------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, *, application_id: str, version_no: int, league: str, enterprise: Mapping, mine: Mapping,
             catalog_id: str, forwarded_at: datetime, forwarded_by: str, initial_report: Mapping | None,
             confirmed_not_applicable: Iterable[int], binding: Iterable[int], case_no: str | None,
             calendar: WorkingCalendar, policy: DeadlinePolicy) -> RegionReview:
        review = cls(application_id=application_id, version_no=version_no, league=league,
                     enterprise=dict(enterprise), mine=dict(mine), catalog_id=catalog_id,
                     forwarded_at=forwarded_at, forwarded_by=forwarded_by,
                     initial_report=dict(initial_report) if initial_report else None,
                     confirmed_not_applicable=tuple(sorted(set(confirmed_not_applicable))),
                     binding=tuple(sorted(set(binding))), case_no=case_no)
        review._enter("awaiting_commission", forwarded_at, calendar, policy)
        review._log(forwarded_at, "opened", forwarded_by, "初审通过，报自治区自然资源厅")
        return review

    # -- the steps ------------------------------------------------------------------------------------------
    def commissioned(self, commission_id: str, institution: Mapping, by: str, at: datetime,
                     calendar: WorkingCalendar, policy: DeadlinePolicy) -> None:
        self._require("awaiting_commission", "委托评估机构")
        self.commission_id = commission_id
        self.institution = {"id": institution["id"], "name": institution["name"]}
        self._enter("commissioned", at, calendar, policy)
        self._log(at, "commissioned", by, f"委托{institution['name']}开展第三方评估")

    def commission_ended(self, commission_id: str, reason: str, by: str, at: datetime,
                         calendar: WorkingCalendar, policy: DeadlinePolicy) -> None:
        """The commission was declined, not accepted in time, or withdrawn: the case waits for a new one."""
        if self.commission_id != commission_id or self.status not in ("commissioned", "under_evaluation"):
            raise InvalidTransition(f"委托 {commission_id} 不是该案件当前的委托")
        self.commission_id = None
        self.institution = None
        self._enter("awaiting_commission", at, calendar, policy)
        self._log(at, "commission_ended", by, reason)

    def evaluation_started(self, commission_id: str, by: str, at: datetime, calendar: WorkingCalendar,
                           policy: DeadlinePolicy) -> None:
        self._require("commissioned", "接受委托")
        if self.commission_id != commission_id:
            raise InvalidTransition(f"委托 {commission_id} 不是该案件当前的委托")
        self._enter("under_evaluation", at, calendar, policy)
        self._log(at, "accepted", by, "评估机构接受委托并签署承诺")

    def evaluation_submitted(self, summary: Mapping, by: str, at: datetime, calendar: WorkingCalendar,
                             policy: DeadlinePolicy) -> None:
        """`summary`: {evaluation_id, assessment_id, total, verdict, not_applicable: [indicator nos]}."""
        self._require("under_evaluation", "提交评估报告")
        self.evaluation = {**summary, "submitted_at": at.isoformat()}
        self._enter("evaluated", at, calendar, policy)
        self._log(at, "evaluated", by, f"提交评估报告（总分 {summary.get('total')}）")

    def check_started(self, round_id: str, by: str, at: datetime, title: str | None = None) -> None:
        """Joining a check round keeps the check step's clock (it runs from the report's submission)."""
        self._require("evaluated", "纳入核查批次")
        self.check_round_id = round_id
        self.status = "in_check"
        self._log(at, "check_started", by, f"纳入{title or '资料核查与抽查批次 ' + round_id}")

    def check_finished(self, result: Mapping, by: str, at: datetime, calendar: WorkingCalendar,
                       policy: DeadlinePolicy) -> None:
        """`result`: {round_id, passed (document check), spot_checked, contradiction (text or None), …}."""
        self._require("in_check", "完成核查")
        if result.get("round_id") != self.check_round_id:
            raise InvalidTransition("核查结果不属于该案件所在的核查批次")
        self.check = dict(result)
        if result.get("contradiction"):
            self.flag("spot_check_contradiction", str(result["contradiction"]), at)
        self._enter("checked", at, calendar, policy)
        self._log(at, "checked", by, "资料核查与抽查完毕" + ("（抽中实地抽查）" if result.get("spot_checked") else ""))

    def flag(self, code: str, text: str, at: datetime) -> None:
        if any(f["code"] == code and not f.get("cleared_at") for f in self.flags):
            return
        self.flags.append({"code": code, "text": text, "at": at.isoformat(), "cleared_at": None,
                           "cleared_by": None, "reason": None})
        self._log(at, "flagged", "system", text)

    def clear_flag(self, code: str, reason: str, actor: Actor, at: datetime) -> None:
        if not (reason or "").strip():
            raise InvalidInput("请说明解除标记的理由", [FieldError("reason", "请填写解除理由")])
        for f in self.flags:
            if f["code"] == code and not f.get("cleared_at"):
                f.update(cleared_at=at.isoformat(), cleared_by=actor.username, reason=reason.strip())
                self._log(at, "flag_cleared", actor.username, f"解除标记：{reason.strip()}")
                return
        raise InvalidTransition("该案件没有这项未解除的标记")

    # -- deadlines ------------------------------------------------------------------------------------------
    def mark_overdue(self, today: date) -> bool:
        """Whether the step just became overdue (once per step)."""
        if not self.is_overdue(today) or self.overdue_since is not None:
            return False
        self.overdue_since = today
        return True

    def remind(self, by: str, by_name: str, message: str, at: datetime) -> dict:
        if self.decided:
            raise InvalidTransition("该案件已作出决定，无需催办")
        reminder = {"at": at.isoformat(), "by": by, "by_name": by_name, "message": message.strip(),
                    "step": self.step}
        self.reminders.append(reminder)
        self._log(at, "reminded", by, f"催办：{message.strip()}")
        return reminder

    # -- the decision ---------------------------------------------------------------------------------------
    def refusals_to_propose(self) -> list[FieldError]:
        """Why the case cannot be proposed for 公示 now ([] when it can)."""
        problems = []
        if self.status != "checked":
            problems.append(FieldError(
                "decision", f"案件当前为“{self.status_label}”，须完成评估和资料核查与抽查后方可拟公示"))
        ev = self.evaluation or {}
        if self.evaluation and ev.get("verdict") != "qualified":
            problems.append(FieldError("decision", f"第三方评估结论为不达标（总分 {ev.get('total')}），不能拟公示"))
        if self.check and not self.check.get("passed", False):
            problems.append(FieldError("decision", "资料核查未通过，不能拟公示"))
        for f in self.open_flags:
            problems.append(FieldError("decision", f"案件有未解除的标记：{f['text']}"))
        unconfirmed = sorted(set(ev.get("not_applicable") or ()) & set(self.binding)
                             - set(self.confirmed_not_applicable))
        if unconfirmed:
            nos = "、".join(f"第{n}项" for n in unconfirmed)
            problems.append(FieldError(
                "decision", f"约束性指标{nos}评估机构判定为不涉及，但初审时责任部门未确认不涉及；"
                            "约束性指标须得满分，不涉及须经责任部门和评估机构共同确认"))
        return problems

    def decide(self, decision: str, reasons: Iterable[Mapping] | None, actor: Actor, at: datetime,
               applicable: Iterable[int]) -> None:
        if decision not in OUTCOMES:
            raise InvalidInput("决定无效", [FieldError(
                "decision", "应为 propose（拟公示）、return（退回整改）或 reject（不予通过）")])
        if self.decided:
            raise InvalidTransition(f"该案件已作出决定：{OUTCOME_LABELS[self.status]}")
        if self.status not in DECIDABLE:
            raise InvalidTransition(f"案件当前为“{self.status_label}”，须在评估报告提交后方可作出决定")
        parsed = parse_reasons(reasons, applicable, required=decision != "propose")
        if decision == "propose":
            problems = self.refusals_to_propose()
            if problems:
                raise InvalidTransition("尚不能拟公示：" + "；".join(p.message for p in problems))
        self.status = OUTCOMES[decision]
        self.decision = {"decision": self.status, "reasons": [r.to_dict() for r in parsed],
                         "decided_by": actor.username, "decided_by_name": actor.name, "decided_at": at.isoformat()}
        self.due_date = None
        self.overdue_since = None
        self._log(at, "decided", actor.username, OUTCOME_LABELS[self.status])

    # -- the public notice (an objection upheld during 公示) ---------------------------------------------------
    def objection_applied(self, objection_id: str) -> bool:
        return any(h.get("objection_id") == objection_id for h in self.history)

    def reopen_after_objection(self, objection_id: str, reasons: str, at: datetime, calendar: WorkingCalendar,
                               policy: DeadlinePolicy) -> bool:
        """公示期异议成立，退回自治区: the proposal is withdrawn and the region office decides again (核查完毕，待决定)
        with an open flag "公示期异议成立：<reasons>" that blocks a new proposal until cleared with a reason.
        Whether anything changed (once per objection; only a proposed case goes back)."""
        if self.status != "proposed" or self.objection_applied(objection_id):
            return False
        text = f"公示期异议成立：{reasons.strip() or '（未说明理由）'}"
        self._enter("checked", at, calendar, policy)
        self.decision = None
        self.history.append({"at": at.isoformat(), "action": "objection_reopened", "by": "public_notice",
                             "text": "公示期异议成立，撤回拟公示，退回自治区重新决定", "objection_id": objection_id})
        self.flag("objection_upheld", text, at)
        return True

    def refuse_after_objection(self, objection_id: str, reasons: str, at: datetime) -> bool:
        """公示期异议成立，不予列入名录: the case ends 不予通过 with the objection's reasons (once; only a proposed
        case)."""
        if self.status != "proposed" or self.objection_applied(objection_id):
            return False
        text = f"公示期异议成立，不予列入绿色矿山名录：{reasons.strip() or '（未说明理由）'}"
        self.status = "rejected"
        self.decision = {"decision": "rejected", "reasons": [{"indicator": None, "text": text}],
                         "decided_by": "public_notice", "decided_by_name": "自治区自然资源厅（公示异议处理）",
                         "decided_at": at.isoformat(), "objection_id": objection_id}
        self.due_date = None
        self.overdue_since = None
        self.history.append({"at": at.isoformat(), "action": "objection_refused", "by": "public_notice",
                             "text": text, "objection_id": objection_id})
        return True

    # -- internals ------------------------------------------------------------------------------------------
    def _require(self, status: str, action: str) -> None:
        if self.status != status:
            raise InvalidTransition(f"案件当前为“{self.status_label}”，不能{action}")

    def _enter(self, status: str, at: datetime, calendar: WorkingCalendar, policy: DeadlinePolicy) -> None:
        self.status = status
        day = beijing_date(at)
        self.step_started_on = day
        self.due_date = calendar.add_working_days(day, policy.region_step_days(STEP_OF[status]))
        self.overdue_since = None

    def _log(self, at: datetime, action: str, by: str, text: str) -> None:
        self.history.append({"at": at.isoformat(), "action": action, "by": by, "text": text})

    # -- persistence ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "_id": self.id, "application_id": self.application_id, "version_no": self.version_no,
            "league": self.league, "enterprise": dict(self.enterprise), "mine": dict(self.mine),
            "catalog_id": self.catalog_id, "forwarded_at": self.forwarded_at, "forwarded_by": self.forwarded_by,
            "initial_report": self.initial_report, "confirmed_not_applicable": list(self.confirmed_not_applicable),
            "binding": list(self.binding), "case_no": self.case_no, "status": self.status,
            "step_started_on": _iso(self.step_started_on), "due_date": _iso(self.due_date),
            "overdue_since": _iso(self.overdue_since), "reminders": list(self.reminders),
            "commission_id": self.commission_id, "institution": self.institution, "evaluation": self.evaluation,
            "check_round_id": self.check_round_id, "check": self.check, "flags": list(self.flags),
            "decision": self.decision, "history": list(self.history),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> RegionReview:
        return cls(
            application_id=d["application_id"], version_no=d["version_no"], league=d["league"],
            enterprise=d.get("enterprise") or {}, mine=d.get("mine") or {}, catalog_id=d["catalog_id"],
            forwarded_at=_dt(d["forwarded_at"]), forwarded_by=d.get("forwarded_by", ""),
            initial_report=d.get("initial_report"),
            confirmed_not_applicable=tuple(d.get("confirmed_not_applicable") or ()),
            binding=tuple(d.get("binding") or ()), case_no=d.get("case_no"), status=d["status"],
            step_started_on=_date(d.get("step_started_on")), due_date=_date(d.get("due_date")),
            overdue_since=_date(d.get("overdue_since")), reminders=list(d.get("reminders") or []),
            commission_id=d.get("commission_id"), institution=d.get("institution"), evaluation=d.get("evaluation"),
            check_round_id=d.get("check_round_id"), check=d.get("check"), flags=list(d.get("flags") or []),
            decision=d.get("decision"), history=list(d.get("history") or []), version=d.get("version"))


def review_id(application_id: str, version_no: int) -> str:
    return f"{application_id}.v{version_no}"


def parse_reasons(raw: Iterable[Mapping] | None, applicable: Iterable[int], *, required: bool
                  ) -> list[RegionReason]:
    """The decision's reasons, each naming one applicable indicator or none (a general reason)."""
    items = list(raw or [])
    errors = []
    if required and not items:
        errors.append(FieldError("reasons", "退回整改或不予通过须至少写明一条理由"))
    if len(items) > MAX_REASONS:
        errors.append(FieldError("reasons", f"理由最多 {MAX_REASONS} 条"))
    allowed = set(applicable)
    parsed = []
    for i, item in enumerate(items[:MAX_REASONS]):
        text = str(item.get("text") or "").strip()
        indicator = item.get("indicator")
        if not text:
            errors.append(FieldError(f"reasons[{i}].text", "请填写理由"))
        elif len(text) > MAX_TEXT:
            errors.append(FieldError(f"reasons[{i}].text", f"理由最多 {MAX_TEXT} 字"))
        if indicator is not None and indicator not in allowed:
            errors.append(FieldError(f"reasons[{i}].indicator", f"第{indicator}项不是该矿山适用的指标"))
        parsed.append(RegionReason(text, indicator))
    if errors:
        raise InvalidInput("决定理由有误", errors)
    return parsed


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(value) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value))
