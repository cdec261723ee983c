"""The measures area (监管事项, issue 13 item 3): 标注, 限期整改 and 移出名录 on listed mines (domain/measures.py),
raised by the departments, answered by the enterprises, reviewed and decided by the region office; the sweep sees missed
rectification deadlines (→ a removal proposal, 正文 四) and overdue steps; `open_from_finding` opens the measure of a
daily-sweep finding. (see `areas.py` for an area's shape)

Events (topic `supervision.case.events`, keyed by the mine id): `supervision.measure_progressed` at every step (who
must act is in `notify`), `supervision.mark_placed` / `mark_lifted` (the mine's open marks after the change) and
`supervision.removal_decided`, which public_notice applies to the public list."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from shared.contracts import new_event
from shared.errors import InvalidTransition, NotFound
from shared.workdays import WorkingCalendar, beijing_date
from supervision import config
from supervision.adapters.situations import department_names, load_situations
from supervision.domain import measures as dm
from supervision.domain.measures import SYSTEM, Measure, MineRef, StepDays
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

PRODUCER = "supervision"
TOPIC = "supervision.case.events"
Clock = Callable[[], datetime]
CALENDAR = WorkingCalendar()     # the official calendar, when the bus gives none
FINDING_ACTIONS = {"mark": "mark", "propose_removal": "remove"}


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RaiseMeasure:
    """A department raises a 标注, 限期整改 (with its deadline) or 移出 report on a listed mine."""
    actor: object
    kind: str
    mine_id: str
    situation: str
    reason: str
    evidence: tuple = ()
    deadline: date | None = None


@dataclass(frozen=True)
class SubmitRectification:
    actor: object
    measure_id: str
    report: str
    evidence: tuple = ()


@dataclass(frozen=True)
class AcceptRectification:
    actor: object
    measure_id: str
    opinion: str


@dataclass(frozen=True)
class RejectRectification:
    actor: object
    measure_id: str
    opinion: str
    deadline: date | None = None


@dataclass(frozen=True)
class LiftMark:
    actor: object
    measure_id: str
    reason: str


@dataclass(frozen=True)
class ReviewRemoval:
    """The region office returns a removal report (`return`) or prepares the 协调机制's decision (`prepare`)."""
    actor: object
    measure_id: str
    action: str
    opinion: str


@dataclass(frozen=True)
class ResubmitRemoval:
    actor: object
    measure_id: str
    note: str
    evidence: tuple = ()


@dataclass(frozen=True)
class WithdrawRemoval:
    actor: object
    measure_id: str
    note: str


@dataclass(frozen=True)
class RecordDecision:
    """The 协调机制's decision on a prepared removal, recorded by the region office."""
    actor: object
    measure_id: str
    meeting_on: date | None
    document_no: str
    outcome: str
    reason: str
    follow_up_department: str | None = None
    follow_up_note: str = ""


# -- helpers -------------------------------------------------------------------------------------------------------
def _days(step_days: StepDays | None) -> StepDays:
    return step_days or config.step_days()


def mine_ref(uow: SupervisionUnitOfWork, mine_id: str) -> MineRef:
    mine = uow.mines.get(mine_id)
    if mine is None:
        raise NotFound(f"在库矿山中没有 {mine_id}")
    return MineRef(mine.id, mine.mine_name, mine.enterprise_name, mine.credit_code, mine.league, mine.county,
                   mine.on_list)


def _get(uow: SupervisionUnitOfWork, measure_id: str) -> Measure:
    measure = uow.measures.get(measure_id)
    if measure is None:
        raise NotFound(f"没有监管事项 {measure_id}")
    return measure


def _cn(value: str | None) -> str:
    if not value:
        return ""
    d = date.fromisoformat(value)
    return f"{d.year}年{d.month}月{d.day}日"


def _parties(m: Measure, action: str) -> list[dict]:
    """Who is told of this step: who must act now, and the enterprise of what concerns it."""
    enterprise = [{"role": "enterprise", "enterprise": m.credit_code}] if m.credit_code else []
    told = {"placed": enterprise, "lifted": enterprise, "accepted": enterprise, "rejected": enterprise,
            "missed": enterprise + m.responsible() + [{"role": "region_office"}],
            "decided": enterprise + m.responsible(), "resubmitted": [{"role": "region_office"}],
            "withdrawn": [{"role": "region_office"}]}.get(action, [])
    out: list[dict] = []
    for query in m.who_acts() + told:
        query = {k: v for k, v in query.items() if v is not None}
        if query not in out:
            out.append(query)
    return out


def _message(m: Measure, action: str, by_name: str) -> str:
    what = f"{m.mine_name}（{dm.KINDS[m.kind]}：{m.situation_text}）"
    text = f"{by_name}：{dm.ACTION_LABELS[action]}，{what}。"
    if m.state == "rectifying":
        text += f"整改期限{_cn(m.deadline)}。"
    elif m.due_on:
        text += f"“{dm.STEP_LABELS[m.step]}”请于{_cn(m.due_on)}前办理。"
    if action == "decided" and m.decision:
        text += f"审定结果：{dm.OUTCOMES[m.decision['outcome']]}（{m.decision['document_no']}）。"
    return text


def _base(m: Measure) -> dict:
    return {"measure_id": m.id, "kind": m.kind, "mine_id": m.mine_id, "mine_name": m.mine_name,
            "enterprise": {"name": m.enterprise_name, "credit_code": m.credit_code}, "league": m.league,
            "county": m.county, "situation": m.situation, "situation_text": m.situation_text}


def _event(event_type: str, m: Measure, payload: dict) -> dict:
    return new_event(event_type, producer=PRODUCER, aggregate_type="supervised_mine", aggregate_id=m.mine_id,
                     aggregate_version=m.version or 1, payload={**_base(m), **payload})


def _save(uow: SupervisionUnitOfWork, m: Measure, action: str, on: date) -> None:
    """Save the measure and publish what this step tells (inside the run)."""
    uow.measures.save(m)
    last = m.history[-1]
    uow.publish(_event("supervision.measure_progressed", m, {
        "action": action, "action_label": dm.ACTION_LABELS[action], "state": m.state,
        "state_label": dm.STATES[m.state], "step": m.step, "step_label": dm.STEP_LABELS.get(m.step),
        "due_on": m.due_on, "deadline": m.deadline, "department": m.department, "on": on.isoformat(),
        "by_name": last["by_name"] or last["by"], "message": _message(m, action, last["by_name"] or last["by"]),
        "notify": _parties(m, action)}), topic=TOPIC)
    if m.kind == "mark" and action in ("placed", "lifted"):
        marks = [{"measure_id": x.id, "reason": x.public_reason}
                 for x in uow.measures.find(mine_id=m.mine_id, kind="mark", state="placed", sort="raised_on")]
        when = {"placed_on": m.raised_on} if action == "placed" else {"lifted_on": on.isoformat()}
        uow.publish(_event(f"supervision.mark_{action}", m, {
            "reason": m.public_reason if action == "placed" else m.lift_reason, **when, "marks": marks}),
            topic=TOPIC)
    if action == "decided":
        uow.publish(_event("supervision.removal_decided", m, {
            **{k: m.decision[k] for k in ("outcome", "meeting_on", "document_no", "reason")},
            "decided_on": m.decision["recorded_on"], "follow_up": dict(m.follow_up)}), topic=TOPIC)


def _open(uow: SupervisionUnitOfWork, *, measure_id: str, kind: str, mine: MineRef, situation: str, actor,
          reason: str, evidence, at: datetime, on: date, days: StepDays, calendar, deadline=None,
          finding_key=None, follows=None, department=None) -> Measure:
    """Raise a measure (inside the run), refusing a second open one of the same situation; a 限期整改 places its
    标注 3 with it."""
    dm.open_conflict(uow.measures.find(mine_id=mine.id, kind=kind, state=list(dm.OPEN)), kind, situation)
    m = Measure.raise_measure(measure_id=measure_id, kind=kind, mine=mine, situation=load_situations().get(situation),
                              actor=actor, reason=reason, evidence=evidence, at=at, on=on, days=days,
                              calendar=calendar, deadline=deadline, finding_key=finding_key, follows=follows,
                              names=department_names())
    if department:
        m.department = department
    if kind == "rectify":
        mark_reason = f"需要限期整改的事项：{m.situation_text}（整改期限{_cn(m.deadline)}）"
        mark = Measure.raise_measure(measure_id=dm.measure_id_for(m.id, "mark"), kind="mark", mine=mine,
                                     situation=load_situations().get("mark.3"), actor=actor, reason=mark_reason,
                                     evidence=None, at=at, on=on, days=days, calendar=calendar, follows=m.id,
                                     names=department_names())
        m.follow_mark = mark.id
        _save(uow, m, "raised", on)
        _save(uow, mark, "placed", on)
    else:
        _save(uow, m, {"mark": "placed", "remove": "reported"}[kind], on)
    return m


# -- handlers ------------------------------------------------------------------------------------------------------
def raise_measure(cmd: RaiseMeasure, uow: SupervisionUnitOfWork, *, clock: Clock,
                  calendar: WorkingCalendar = CALENDAR, step_days: StepDays | None = None) -> dict:
    at = clock()
    on = beijing_date(at)
    measure_id = "ms-" + uuid.uuid4().hex[:16]

    def work():
        mine = mine_ref(uow, cmd.mine_id)
        m = _open(uow, measure_id=measure_id, kind=cmd.kind, mine=mine, situation=cmd.situation, actor=cmd.actor,
                  reason=cmd.reason, evidence=cmd.evidence, at=at, on=on, days=_days(step_days), calendar=calendar,
                  deadline=cmd.deadline)
        return measure_view(m)

    return uow.run(work)


def _step(cmd, uow: SupervisionUnitOfWork, clock: Clock, do: Callable[[Measure, datetime, date], str]) -> dict:
    at = clock()
    on = beijing_date(at)

    def work():
        m = _get(uow, cmd.measure_id)
        action = do(m, at, on)
        _save(uow, m, action, on)
        return measure_view(m)

    return uow.run(work)


def submit_rectification(cmd: SubmitRectification, uow: SupervisionUnitOfWork, *, clock: Clock,
                         calendar: WorkingCalendar = CALENDAR, step_days: StepDays | None = None) -> dict:
    def do(m, at, on):
        m.submit_rectification(cmd.actor, report=cmd.report, evidence=cmd.evidence, at=at, on=on,
                               days=_days(step_days), calendar=calendar)
        return "submitted"

    return _step(cmd, uow, clock, do)


def accept_rectification(cmd: AcceptRectification, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    """Accepted: closed, and its 标注 3 lifted."""
    def do(m, at, on):
        m.accept(cmd.actor, opinion=cmd.opinion, at=at, on=on)
        mark = uow.measures.get(m.follow_mark) if m.follow_mark else None
        if mark is not None and mark.state == "placed":
            mark.lift(SYSTEM, reason=f"限期整改已验收通过（{_cn(on.isoformat())}）", at=at, on=on)
            _save(uow, mark, "lifted", on)
        return "accepted"

    return _step(cmd, uow, clock, do)


def reject_rectification(cmd: RejectRectification, uow: SupervisionUnitOfWork, *, clock: Clock,
                         calendar: WorkingCalendar = CALENDAR, step_days: StepDays | None = None) -> dict:
    def do(m, at, on):
        m.reject(cmd.actor, opinion=cmd.opinion, deadline=cmd.deadline, at=at, on=on, days=_days(step_days),
                 calendar=calendar)
        return "rejected"

    return _step(cmd, uow, clock, do)


def lift_mark(cmd: LiftMark, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    def do(m, at, on):
        if m.kind == "mark" and m.follows:
            raise InvalidTransition("该标注随限期整改事项产生，整改验收通过后自动取消")
        m.lift(cmd.actor, reason=cmd.reason, at=at, on=on)
        return "lifted"

    return _step(cmd, uow, clock, do)


def review_removal(cmd: ReviewRemoval, uow: SupervisionUnitOfWork, *, clock: Clock,
                   calendar: WorkingCalendar = CALENDAR, step_days: StepDays | None = None) -> dict:
    def do(m, at, on):
        m.review(cmd.actor, action=cmd.action, opinion=cmd.opinion, at=at, on=on, days=_days(step_days),
                 calendar=calendar)
        return m.state

    return _step(cmd, uow, clock, do)


def resubmit_removal(cmd: ResubmitRemoval, uow: SupervisionUnitOfWork, *, clock: Clock,
                     calendar: WorkingCalendar = CALENDAR, step_days: StepDays | None = None) -> dict:
    def do(m, at, on):
        m.resubmit(cmd.actor, note=cmd.note, evidence=cmd.evidence, at=at, on=on, days=_days(step_days),
                   calendar=calendar)
        return "resubmitted"

    return _step(cmd, uow, clock, do)


def withdraw_removal(cmd: WithdrawRemoval, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    def do(m, at, on):
        m.withdraw(cmd.actor, note=cmd.note, at=at, on=on)
        return "withdrawn"

    return _step(cmd, uow, clock, do)


def record_decision(cmd: RecordDecision, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    """The decision recorded; `removed`: the register entry leaves the list (public_notice announces it)."""
    def do(m, at, on):
        m.record_decision(cmd.actor, meeting_on=cmd.meeting_on, document_no=cmd.document_no, outcome=cmd.outcome,
                          reason=cmd.reason, follow_up_department=cmd.follow_up_department,
                          follow_up_note=cmd.follow_up_note, at=at, on=on, departments=department_names())
        if m.state == "removed":
            mine = uow.mines.get(m.mine_id)
            if mine is not None and mine.record_removal(m.decision, m.id, at):
                uow.mines.save(mine)
        return "decided"

    return _step(cmd, uow, clock, do)


def open_from_finding(uow: SupervisionUnitOfWork, *, mine_id: str, action: str, situation: str, reason: str,
                      finding_key: str, clock: Clock, calendar: WorkingCalendar = CALENDAR,
                      step_days: StepDays | None = None) -> str:
    """The measure a daily-sweep finding opens, raised by the platform: `mark` → a 标注, `propose_removal` → a 移出
    report to the region office. Idempotent per `finding_key` (the same id however often it is called); when the
    mine already has that measure open (or, for a removal, any removal open), that one's id. Refused: an unknown
    mine (NotFound), a mine not on the list (InvalidTransition), another action (ValueError: a warning is no
    measure). Runs in its own transaction, or joins the caller's `uow.run`."""
    kind = FINDING_ACTIONS.get(action)
    if kind is None:
        raise ValueError(f"unknown finding action {action!r}")
    at = clock()
    on = beijing_date(at)
    measure_id = dm.measure_id_for("finding", finding_key)

    def work() -> str:
        if uow.measures.get(measure_id) is not None:
            return measure_id
        mine = mine_ref(uow, mine_id)
        for m in uow.measures.find(mine_id=mine_id, kind=kind, state=list(dm.OPEN)):
            if m.situation == situation or kind == "remove":
                return m.id
        _open(uow, measure_id=measure_id, kind=kind, mine=mine, situation=situation, actor=SYSTEM, reason=reason,
              evidence=[{"text": f"平台每日巡检发现：{reason}"}], at=at, on=on, days=_days(step_days),
              calendar=calendar, finding_key=finding_key)
        return measure_id

    return uow.run(work)


def sweep(uow: SupervisionUnitOfWork, *, clock: Clock, calendar: WorkingCalendar = CALENDAR,
          step_days: StepDays | None = None) -> int:
    """Deadlines passing: a rectification still open the day after its deadline is missed and proposes removal
    (正文 四, 移出 as `MISSED_DEADLINE_SITUATION`); any other step past its due date is flagged overdue once.
    Each measure in its own transaction; a repeated sweep changes nothing."""
    at = clock()
    today = beijing_date(at)
    days = _days(step_days)
    changed = measures_from_findings(uow, clock=clock, calendar=calendar, step_days=step_days)
    ids = uow.run(lambda: [m.id for m in uow.measures.find(state=list(dm.OPEN))])
    for measure_id in ids:
        def work(measure_id=measure_id) -> int:
            m = uow.measures.get(measure_id)
            if m is None:
                return 0
            if m.deadline_missed(today):
                return _missed(uow, m, at, today, days, calendar)
            if m.flag_overdue(today, at):
                _save(uow, m, "overdue", today)
                return 1
            return 0

        changed += uow.run(work)
    return changed


def measures_from_findings(uow: SupervisionUnitOfWork, *, clock: Clock, calendar: WorkingCalendar = CALENDAR,
                           step_days: StepDays | None = None) -> int:
    """The daily sweep's `mark` and `propose_removal` findings (area triggers, recorded `open`) become measures
    raised by the platform, each once: the finding keeps the measure's id. A finding about a mine that is no longer
    on the list is closed instead. Each finding in its own transaction; run again, nothing changes."""
    ids = uow.read(lambda: [f.id for f in uow.findings.find(status="open", action=list(FINDING_ACTIONS))])
    changed = 0
    for finding_id in ids:
        def work(finding_id=finding_id) -> int:
            finding = uow.findings.get(finding_id)
            if finding is None or finding.status != "open" or not finding.becomes_measure:
                return 0
            mine = uow.mines.get(finding.mine_id)
            if mine is None or not mine.on_list:
                finding.close(clock(), "矿山已不在绿色矿山名录中，不再转为监管事项")
            else:
                finding.turned_into(open_from_finding(
                    uow, mine_id=finding.mine_id, action=finding.action, situation=finding.situation,
                    reason=finding.reason, finding_key=finding.key, clock=clock, calendar=calendar,
                    step_days=step_days), clock())
            uow.findings.save(finding)
            return 1

        changed += uow.run(work)
    return changed


def _missed(uow: SupervisionUnitOfWork, m: Measure, at: datetime, on: date, days: StepDays, calendar) -> int:
    removal_id = dm.measure_id_for(m.id, "removal")
    m.miss(at, on, removal_id)
    _save(uow, m, "missed", on)
    if uow.measures.get(removal_id) is None and not any(
            x.is_open for x in uow.measures.find(mine_id=m.mine_id, kind="remove")):
        reason = f"{dm.MISSED_DEADLINE_REASON}：{m.situation_text}，整改期限{_cn(m.deadline)}"
        mine = mine_ref(uow, m.mine_id)
        if mine.listed:
            _open(uow, measure_id=removal_id, kind="remove", mine=mine, situation=dm.MISSED_DEADLINE_SITUATION,
                  actor=SYSTEM, reason=reason[:dm.MAX_REASON], evidence=[
                      {"text": f"限期整改事项 {m.id}（{m.situation_text}）于{_cn(m.deadline)}届满，未完成整改"}],
                  at=at, on=on, days=days, calendar=calendar, follows=m.id, department=m.department)
    return 1


# -- views ---------------------------------------------------------------------------------------------------------
def measure_view(m: Measure) -> dict:
    doc = m.to_dict()
    doc["measure_id"] = doc.pop("_id")
    doc["version"] = m.version
    doc.update(kind_label=dm.KINDS[m.kind], state_label=dm.STATES[m.state], step_label=dm.STEP_LABELS.get(m.step),
               is_open=m.is_open, is_overdue=m.is_overdue)
    doc["history"] = [{**h, "at": h["at"].isoformat() if isinstance(h["at"], datetime) else h["at"],
                       "action_label": dm.ACTION_LABELS.get(h["action"], h["action"])} for h in m.history]
    return doc


COMMAND_HANDLERS = {RaiseMeasure: raise_measure, SubmitRectification: submit_rectification,
                    AcceptRectification: accept_rectification, RejectRectification: reject_rectification,
                    LiftMark: lift_mark, ReviewRemoval: review_removal, ResubmitRemoval: resubmit_removal,
                    WithdrawRemoval: withdraw_removal, RecordDecision: record_decision}
EVENT_HANDLERS: dict = {}
