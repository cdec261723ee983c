"""`Measure` (监管事项): one measure of dynamic management (附件2 四) on a listed mine — 标注, 限期整改 or 移出名录 —
citing one situation of `contracts/supervision/situations.yaml` ("rectify.5"), with its evidence, the step it is
at, that step's due date in working days, and its history (who did what, when; append-only).

* 标注 (mark): `placed` (public reason) → `lifted` (resolved, with the reason). 标注 3 follows an open 限期整改: it is
  placed with it and lifted when the rectification is accepted.
* 限期整改 (rectify): `rectifying` (the raising department set the deadline) → the enterprise submits its report and
  evidence → `submitted` → the department accepts (`accepted`) or rejects it (back to `rectifying`, the same or a new
  deadline); a deadline passed while `rectifying` → `missed`: removal is proposed (正文 四).
* 移出 (remove): `reported` by the 盟市/旗县 or a regional department → the region office (协调机制办公室) reviews it:
  `returned` to the reporter (who reports it again or withdraws it: `withdrawn`) or `prepared` for the 协调机制 →
  the decision recorded with its meeting date, document number and outcome: `removed` or `kept`. Follow-up
  rectification stays with the responsible department (`follow_up`).

Who may act (`permission`): a bureau or a department reviewer acts within its 盟市, a regional department (and the
region office) anywhere, and only a department whose duties cover the situation (`raised_by`) raises it; the
enterprise answers for its own mines; the region office reviews removals and records the decisions. Pure: no I/O."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.accounts.rules import REGION
from shared.errors import Conflict, FieldError, InvalidInput, InvalidTransition, NotPermitted
from shared.stored import StoredDataclass
from supervision.domain.situations import Situation

KINDS = {"mark": "标注", "rectify": "限期整改", "remove": "移出名录"}
STATES = {
    "placed": "已标注", "lifted": "已取消标注",
    "rectifying": "整改中", "submitted": "整改报告待审核", "accepted": "整改完成", "missed": "逾期未整改（已提请移出）",
    "reported": "待协调机制办公室审核", "returned": "已退回", "prepared": "待协调机制审定", "removed": "已移出名录",
    "kept": "不予移出", "withdrawn": "已撤回",
}
OPEN = ("placed", "rectifying", "submitted", "reported", "returned", "prepared")
# the step a measure waits on in each open state, and who must act then
STEPS = {"placed": "resolve", "rectifying": "rectify", "submitted": "review", "reported": "office_review",
         "returned": "resubmit", "prepared": "decision"}
STEP_LABELS = {"resolve": "核查标注情形是否消除", "rectify": "企业整改", "review": "审核整改报告",
               "office_review": "协调机制办公室审核", "resubmit": "补充后重新上报或撤回", "decision": "协调机制审定"}
ACTION_LABELS = {
    "placed": "标注", "lifted": "取消标注", "raised": "提出限期整改", "submitted": "提交整改报告",
    "accepted": "整改验收通过", "rejected": "整改不合格，退回整改", "missed": "逾期未完成整改，提请移出名录",
    "reported": "上报移出名录", "returned": "退回上报单位", "resubmitted": "重新上报", "withdrawn": "撤回",
    "prepared": "审核通过，提请协调机制审定", "decided": "记录协调机制审定结果", "overdue": "超期"}
OUTCOMES = {"removed": "移出名录", "kept": "不予移出"}
# 正文 四: "对存在问题未按规定期限完成整改的绿色矿山，经盟市自然资源局会同有关主管部门审核确认后申请移出绿色矿山名录".
# Of the 14 situations of 附件2 四（三）, the one a missed rectification falls under:
# 14 (其他违法违规行为不宜继续列入名录的); 7 is about the environmental regimes only.
MISSED_DEADLINE_SITUATION = "remove.14"
MISSED_DEADLINE_REASON = ("未按规定期限完成整改（正文 四：对存在问题未按规定期限完成整改的绿色矿山，"
                          "申请移出绿色矿山名录）")
MAX_TEXT = 2000
MAX_REASON = 500
MAX_EVIDENCE = 20
MAX_DEADLINE_DAYS = 366


@dataclass(frozen=True)
class StepDays:
    """Working days allowed per step (GREENMINE_SUPERVISION_*_DAYS)."""
    mark_days: int = 60            # the raiser checks whether a 标注's situation is resolved
    review_days: int = 15          # the department reviews a rectification report
    office_review_days: int = 15   # the region office reviews a removal report
    resubmit_days: int = 15        # a returned removal report is completed and reported again (or withdrawn)
    decision_days: int = 20        # the 协调机制 decides a prepared removal

    def of(self, step: str) -> int:
        return {"resolve": self.mark_days, "review": self.review_days, "office_review": self.office_review_days,
                "resubmit": self.resubmit_days, "decision": self.decision_days}[step]


@dataclass(frozen=True)
class SystemActor:
    """The platform itself (the daily sweep's findings)."""
    username: str = "system"
    role: str = "system"
    display_name: str = "平台每日巡检"
    department: str | None = None
    area: str | None = REGION
    enterprise: str | None = None


SYSTEM = SystemActor()


@dataclass(frozen=True)
class MineRef:
    """The mine a measure is on, as the register knows it."""
    id: str
    name: str
    enterprise_name: str
    credit_code: str | None
    league: str
    county: str | None
    listed: bool


def department_of(actor) -> str | None:
    """The 附件3 department an account acts for: a bureau and the region office are 自然资源."""
    role = getattr(actor, "role", None)
    if role in ("bureau", "region_office"):
        return "natural_resources"
    if role == "department_reviewer":
        return getattr(actor, "department", None)
    return None


def is_regional(actor) -> bool:
    return getattr(actor, "role", None) in ("region_office", "system") or getattr(actor, "area", None) == REGION


def actor_area(actor) -> str:
    return REGION if is_regional(actor) else (getattr(actor, "area", None) or "")


def check_area(actor, league: str) -> None:
    """A 盟市 account acts only on its own 盟市's mines."""
    if not is_regional(actor) and getattr(actor, "area", None) != league:
        raise NotPermitted(f"只能对本盟市（{getattr(actor, 'area', None) or '未设置'}）的在库矿山采取监管措施，"
                           f"该矿山属于{league}")


def _name(actor) -> str:
    return getattr(actor, "display_name", None) or getattr(actor, "username", "")


def _text(value, field_name: str, label: str, errors: list, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if required and not value:
        errors.append(FieldError(field_name, f"请填写{label}"))
    elif len(value) > limit:
        errors.append(FieldError(field_name, f"{label}不能超过{limit}字"))
    return value


def evidence_items(items: Iterable | None, errors: list, *, required: bool, field_name: str = "evidence") -> list:
    """Evidence as [{"kind": "file", "ref"} | {"kind": "text", "text"}]: a file reference (a stored document's id or
    address) or a text (an inspection record, a finding)."""
    out = []
    for n, item in enumerate(items or ()):
        ref = (item.get("ref") or "").strip() if isinstance(item, Mapping) else ""
        text = (item.get("text") or "").strip() if isinstance(item, Mapping) else ""
        if bool(ref) == bool(text):
            errors.append(FieldError(f"{field_name}.{n}", "每项证据须为一个文件引用（ref）或一段文字说明（text）"))
        elif len(ref) > 500 or len(text) > MAX_TEXT:
            errors.append(FieldError(f"{field_name}.{n}", f"证据过长（文件引用500字、文字说明{MAX_TEXT}字以内）"))
        else:
            out.append({"kind": "file", "ref": ref} if ref else {"kind": "text", "text": text})
    if len(out) > MAX_EVIDENCE:
        errors.append(FieldError(field_name, f"证据不能超过{MAX_EVIDENCE}项"))
    if required and not out and not any(e.field.startswith(field_name) for e in errors):
        errors.append(FieldError(field_name, "请提供证据（文件引用或文字说明）"))
    return out


def _raise_if(errors: list, message: str) -> None:
    if errors:
        raise InvalidInput(message, errors)


def measure_id_for(*parts: str) -> str:
    return "ms-" + hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclass
class Measure(StoredDataclass):
    id: str
    kind: str                        # mark | rectify | remove
    mine_id: str
    mine_name: str
    enterprise_name: str
    credit_code: str | None
    league: str
    county: str | None
    situation: str                   # "rectify.5"
    situation_text: str
    department: str | None           # the department responsible (raising it; the follow-up of a removal)
    raised_by: str
    raised_by_name: str
    raised_area: str                 # the raiser's 盟市, or 自治区
    raised_on: str
    state: str
    reason: str                      # the problem; for a mark its public reason
    evidence: list[dict] = field(default_factory=list)
    deadline: str | None = None      # 限期整改: the deadline set by the raising department
    step: str | None = None
    due_on: str | None = None
    overdue: list[str] = field(default_factory=list)   # "<step>:<due_on>" flagged once each
    rounds: int = 0                  # rectification reports rejected
    finding_key: str | None = None   # the sweep's finding that opened it
    follows: str | None = None       # 标注 3: the 限期整改 it follows from; 移出: the missed 限期整改
    follow_mark: str | None = None   # 限期整改: its 标注 3
    proposed_removal: str | None = None  # 限期整改 missed: the 移出 it proposed
    report: dict | None = None       # 限期整改: the latest rectification report {text, evidence, on}
    decision: dict | None = None     # 移出: {meeting_on, document_no, outcome, reason, recorded_on}
    follow_up: dict | None = None    # 移出: {department, note}
    lift_reason: str | None = None
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    # -- raising ---------------------------------------------------------------------------------------------------
    @classmethod
    def raise_measure(cls, *, measure_id: str, kind: str, mine: MineRef, situation: Situation | None, actor,
                      reason: str, evidence: Iterable | None, at: datetime, on: date, days: StepDays, calendar,
                      deadline: date | None = None, finding_key: str | None = None, follows: str | None = None,
                      names: Mapping[str, str] | None = None) -> Measure:
        """A new measure, refused when `actor` may not raise it (area, department, situation) or the input is
        incomplete. A mark placed by following a rectification (标注 3) or by the sweep is raised by SYSTEM."""
        errors: list = []
        if kind not in KINDS:
            errors.append(FieldError("kind", "监管措施须为 标注、限期整改 或 移出名录"))
        if situation is None:
            errors.append(FieldError("situation", "请选择通知附件2 四所列的情形（如 rectify.5）"))
        elif kind in KINDS and situation.measure != kind:
            errors.append(FieldError("situation", f"所选情形不属于{KINDS[kind]}的情形"))
        reason = _text(reason, "reason", "事由（公开原因）" if kind == "mark" else "事由", errors, limit=MAX_REASON)
        system = getattr(actor, "role", None) == "system"
        items = evidence_items(evidence, errors, required=not system and follows is None)
        if kind == "rectify":
            if deadline is None:
                errors.append(FieldError("deadline", "请填写整改期限（由提出问题的部门决定）"))
            elif deadline <= on or (deadline - on).days > MAX_DEADLINE_DAYS:
                errors.append(FieldError("deadline", f"整改期限须在今天之后、{MAX_DEADLINE_DAYS}天以内"))
        _raise_if(errors, f"{KINDS.get(kind, '监管措施')}的信息不完整")
        if not mine.listed:
            raise InvalidTransition(f"{mine.name} 不在绿色矿山名录中，不能采取监管措施")
        department = permission_to_raise(actor, mine, situation, names or {}, follows=follows)
        raised_on = on.isoformat()
        m = cls(id=measure_id, kind=kind, mine_id=mine.id, mine_name=mine.name, enterprise_name=mine.enterprise_name,
                credit_code=mine.credit_code, league=mine.league, county=mine.county, situation=situation.code,
                situation_text=situation.text, department=department, raised_by=actor.username,
                raised_by_name=_name(actor), raised_area=actor_area(actor), raised_on=raised_on,
                state={"mark": "placed", "rectify": "rectifying", "remove": "reported"}[kind], reason=reason,
                evidence=[{**e, "on": raised_on, "by": actor.username} for e in items], finding_key=finding_key,
                follows=follows, deadline=deadline.isoformat() if deadline else None)
        m._enter(m.state, on, days, calendar)
        action = {"mark": "placed", "rectify": "raised", "remove": "reported"}[kind]
        m._log(action, actor, at, on, reason=reason, situation=situation.code, deadline=m.deadline,
               finding_key=finding_key, follows=follows)
        return m

    # -- 限期整改 --------------------------------------------------------------------------------------------------
    def submit_rectification(self, actor, *, report: str, evidence: Iterable | None, at: datetime, on: date,
                             days: StepDays, calendar) -> None:
        self._expect("rectify", ("rectifying",), "提交整改报告")
        if getattr(actor, "role", None) != "enterprise" or not self.credit_code or \
                getattr(actor, "enterprise", None) != self.credit_code:
            raise NotPermitted("只有该矿山的矿山企业可以提交整改报告")
        errors: list = []
        report = _text(report, "report", "整改报告", errors)
        items = evidence_items(evidence, errors, required=True)
        _raise_if(errors, "整改报告不完整")
        self.report = {"text": report, "evidence": items, "on": on.isoformat(), "round": self.rounds + 1}
        self.evidence += [{**e, "on": on.isoformat(), "by": actor.username} for e in items]
        self._enter("submitted", on, days, calendar)
        self._log("submitted", actor, at, on, report=report, evidence=items)

    def accept(self, actor, *, opinion: str, at: datetime, on: date) -> None:
        self._expect("rectify", ("submitted",), "验收整改")
        self._check_responsible(actor)
        errors: list = []
        opinion = _text(opinion, "opinion", "审核意见", errors, limit=MAX_REASON)
        _raise_if(errors, "请填写审核意见")
        self._enter("accepted", on)
        self._log("accepted", actor, at, on, opinion=opinion)

    def reject(self, actor, *, opinion: str, deadline: date | None, at: datetime, on: date, days: StepDays,
               calendar) -> None:
        """Back to the enterprise with the same deadline, or a new one (a passed deadline needs a new one)."""
        self._expect("rectify", ("submitted",), "退回整改")
        self._check_responsible(actor)
        errors: list = []
        opinion = _text(opinion, "opinion", "不合格的理由", errors, limit=MAX_REASON)
        new = deadline or date.fromisoformat(self.deadline)
        if new <= on or (new - on).days > MAX_DEADLINE_DAYS:
            errors.append(FieldError("deadline", (
                f"原整改期限已过，请重新确定整改期限（今天之后、{MAX_DEADLINE_DAYS}天以内）" if deadline is None
                else f"整改期限须在今天之后、{MAX_DEADLINE_DAYS}天以内")))
        _raise_if(errors, "退回整改的信息不完整")
        self.deadline, self.rounds = new.isoformat(), self.rounds + 1
        self._enter("rectifying", on, days, calendar)
        self._log("rejected", actor, at, on, opinion=opinion, deadline=self.deadline)

    def miss(self, at: datetime, on: date, removal_id: str) -> None:
        """The deadline passed while rectifying: removal is proposed (the sweep opens `removal_id`)."""
        self._expect("rectify", ("rectifying",), "认定逾期")
        self.proposed_removal = removal_id
        self._enter("missed", on)
        self._log("missed", SYSTEM, at, on, deadline=self.deadline, removal=removal_id)

    def deadline_missed(self, today: date) -> bool:
        return self.kind == "rectify" and self.state == "rectifying" and today > date.fromisoformat(self.deadline)

    # -- 标注 ------------------------------------------------------------------------------------------------------
    def lift(self, actor, *, reason: str, at: datetime, on: date) -> None:
        self._expect("mark", ("placed",), "取消标注")
        if getattr(actor, "role", None) != "system":
            self._check_responsible(actor)
        errors: list = []
        reason = _text(reason, "reason", "取消标注的理由", errors, limit=MAX_REASON)
        _raise_if(errors, "请填写取消标注的理由")
        self.lift_reason = reason
        self._enter("lifted", on)
        self._log("lifted", actor, at, on, reason=reason)

    # -- 移出 ------------------------------------------------------------------------------------------------------
    def review(self, actor, *, action: str, opinion: str, at: datetime, on: date, days: StepDays, calendar) -> None:
        """The region office: `return` the report to the reporter, or `prepare` the 协调机制's decision."""
        self._expect("remove", ("reported",), "审核移出上报")
        _require_office(actor)
        errors: list = []
        if action not in ("return", "prepare"):
            errors.append(FieldError("action", "审核结果须为 退回（return）或 提请审定（prepare）"))
        opinion = _text(opinion, "opinion", "审核意见", errors, limit=MAX_REASON)
        _raise_if(errors, "审核信息不完整")
        state = "returned" if action == "return" else "prepared"
        self._enter(state, on, days, calendar)
        self._log(state, actor, at, on, opinion=opinion)

    def resubmit(self, actor, *, note: str, evidence: Iterable | None, at: datetime, on: date, days: StepDays,
                 calendar) -> None:
        self._expect("remove", ("returned",), "重新上报")
        self._check_responsible(actor)
        errors: list = []
        note = _text(note, "note", "补充说明", errors, limit=MAX_REASON)
        items = evidence_items(evidence, errors, required=False)
        _raise_if(errors, "重新上报的信息不完整")
        self.evidence += [{**e, "on": on.isoformat(), "by": actor.username} for e in items]
        self._enter("reported", on, days, calendar)
        self._log("resubmitted", actor, at, on, note=note, evidence=items)

    def withdraw(self, actor, *, note: str, at: datetime, on: date) -> None:
        self._expect("remove", ("returned",), "撤回")
        self._check_responsible(actor)
        errors: list = []
        note = _text(note, "note", "撤回理由", errors, limit=MAX_REASON)
        _raise_if(errors, "请填写撤回理由")
        self._enter("withdrawn", on)
        self._log("withdrawn", actor, at, on, note=note)

    def record_decision(self, actor, *, meeting_on: date | None, document_no: str, outcome: str, reason: str,
                        follow_up_department: str | None, follow_up_note: str, at: datetime, on: date,
                        departments: Iterable[str] = ()) -> None:
        """The 协调机制's decision, recorded by the region office: `removed` (the mine leaves the list; the reason
        is public) or `kept`. Follow-up rectification stays with the responsible department."""
        self._expect("remove", ("prepared",), "记录审定结果")
        _require_office(actor)
        errors: list = []
        if meeting_on is None:
            errors.append(FieldError("meeting_on", "请填写协调机制会议日期"))
        elif meeting_on > on:
            errors.append(FieldError("meeting_on", "会议日期不能晚于今天"))
        document_no = _text(document_no, "document_no", "审定文号", errors, limit=64)
        if outcome not in OUTCOMES:
            errors.append(FieldError("outcome", "审定结果须为 移出名录（removed）或 不予移出（kept）"))
        reason = _text(reason, "reason", "审定理由（公开）", errors, limit=MAX_REASON)
        department = follow_up_department or self.department
        if department not in set(departments) | {self.department}:
            errors.append(FieldError("follow_up_department", "后续整改监督部门须为附件3所列部门"))
        note = _text(follow_up_note, "follow_up_note", "后续整改要求", errors, limit=MAX_REASON, required=False)
        _raise_if(errors, "审定结果不完整")
        self.decision = {"meeting_on": meeting_on.isoformat(), "document_no": document_no, "outcome": outcome,
                         "reason": reason, "recorded_on": on.isoformat()}
        self.follow_up = {"department": department, "note": note}
        self._enter(outcome, on)
        self._log("decided", actor, at, on, **self.decision, follow_up=self.follow_up)

    # -- deadlines -------------------------------------------------------------------------------------------------
    def flag_overdue(self, today: date, at: datetime) -> bool:
        """Flag the current step overdue once (its due date passed); False when not due or already flagged. A
        rectification's own deadline is not flagged: its passing proposes removal (`miss`)."""
        if self.state not in OPEN or self.due_on is None or self.state == "rectifying":
            return False
        key = f"{self.step}:{self.due_on}"
        if today <= date.fromisoformat(self.due_on) or key in self.overdue:
            return False
        self.overdue.append(key)
        self._log("overdue", SYSTEM, at, today, step=self.step, due_on=self.due_on)
        return True

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and f"{self.step}:{self.due_on}" in self.overdue

    @property
    def public_reason(self) -> str:
        """What the public list shows for a mark."""
        return self.reason

    def who_acts(self) -> list[dict]:
        """Directory queries of the accounts that must act at the current step (and be told of it)."""
        if self.state == "rectifying":
            return [{"role": "enterprise", "enterprise": self.credit_code}] if self.credit_code else []
        if self.state in ("submitted", "placed", "returned"):
            return self.responsible()
        if self.state in ("reported", "prepared"):
            return [{"role": "region_office"}]
        return []

    def responsible(self) -> list[dict]:
        """The raising department's accounts: its reviewers where it raised it (and, for 自然资源 in a 盟市, the
        bureau); the region office for what the platform or the region raised as 自然资源."""
        dept, area = self.department, self.raised_area
        queries = [{"role": "department_reviewer", "department": dept, "area": area}] if dept else []
        if dept == "natural_resources":
            queries.append({"role": "bureau", "area": self.league} if area != REGION else {"role": "region_office"})
            if area == REGION:
                queries.append({"role": "bureau", "area": self.league})
        return queries

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _expect(self, kind: str, states: tuple[str, ...], what: str) -> None:
        if self.kind != kind:
            raise InvalidTransition(f"{KINDS[self.kind]}事项不能{what}")
        if self.state not in states:
            raise InvalidTransition(f"该事项当前为“{STATES[self.state]}”，不能{what}")

    def _check_responsible(self, actor) -> None:
        """The raising department (its 盟市's accounts, or a regional one) — and the region office for what the
        platform raised."""
        role = getattr(actor, "role", None)
        if role == "region_office" and (self.raised_area == REGION or self.department == "natural_resources"):
            return
        if department_of(actor) != self.department or role not in ("bureau", "department_reviewer"):
            raise NotPermitted(f"只有提出该事项的部门（{self.department or '自治区'}）可以办理")
        check_area(actor, self.league)
        if self.raised_area == REGION and not is_regional(actor) and self.raised_by != "system":
            raise NotPermitted("该事项由自治区部门提出，由自治区部门办理")

    def _enter(self, state: str, on: date, days: StepDays | None = None, calendar=None) -> None:
        self.state = state
        self.step = STEPS.get(state)
        if self.step is None:
            self.due_on = None
        elif self.step == "rectify":
            self.due_on = self.deadline
        else:
            self.due_on = calendar.add_working_days(on, days.of(self.step)).isoformat()

    def _log(self, action: str, actor, at: datetime, on: date, **details) -> None:
        self.history.append({"at": at, "on": on.isoformat(), "by": actor.username, "by_name": _name(actor),
                             "role": getattr(actor, "role", None), "action": action, "state": self.state,
                             "due_on": self.due_on, **{k: v for k, v in details.items() if v is not None}})


def _require_office(actor) -> None:
    if getattr(actor, "role", None) != "region_office":
        raise NotPermitted("只有自治区绿色矿山建设协调机制办公室（自治区自然资源厅）可以办理移出名录的审核和审定")


def permission_to_raise(actor, mine: MineRef, situation: Situation, names: Mapping[str, str], *,
                        follows: str | None = None) -> str | None:
    """The department raising it (refused with NotPermitted when `actor` may not): within its 盟市 (a regional
    department anywhere), and only a department whose duties cover the situation (`raised_by`)."""
    role = getattr(actor, "role", None)
    if role == "system":
        return situation.raised_by[0]
    if situation.detection == "follows" and follows is None:
        raise InvalidTransition(f"标注{situation.no}“{situation.text}”随限期整改自动标注，不能单独提出")
    if role not in ("bureau", "department_reviewer", "region_office"):
        raise NotPermitted("只有有关主管部门（盟市自然资源局、部门审核人员、自治区自然资源厅）可以采取监管措施")
    check_area(actor, mine.league)
    department = department_of(actor)
    if department not in situation.raised_by:
        allowed = "、".join(names.get(d, d) for d in situation.raised_by)
        who = names.get(department or "", department or "该账号")
        raise NotPermitted(f"{who}不能提出该情形（可提出的部门：{allowed}）")
    return department


def open_conflict(existing: Iterable[Measure], kind: str, situation: str) -> None:
    """One open measure per mine, kind and situation (and one open removal per mine)."""
    for m in existing:
        if m.is_open and m.kind == kind and (m.situation == situation or kind == "remove"):
            raise Conflict(f"{m.mine_name} 已有在办的{KINDS[kind]}事项（{m.id}，{STATES[m.state]}）")
