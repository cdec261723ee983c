"""Printable sheets (附件2 二): the department opinion sheet (部门审核意见表) of a task, the countersign sheet (会签单)
and the initial-review decision (初审意见) of a case version, as plain models a print template lays out.

The builders are pure (a task or case, the catalog, department names in; a JSON-ready dict out: labels in
Chinese, never a code); the handlers read what they need in one snapshot and check who may see it. Times stay
aware datetimes here: the templates show them in Beijing time (`local_time`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from review_routing.domain.case import ReviewCase
from review_routing.domain.checks import INITIAL_REVIEW_CHECKS
from review_routing.domain.checks import check as check_by_code
from review_routing.domain.commands import PrintCountersignSheet, PrintDecision, PrintOpinionSheet
from review_routing.domain.errors import InvalidTransition, NotFound
from review_routing.domain.task import ReviewTask
from review_routing.service_layer.common import Catalogs, department_name, readable_case, readable_task
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.catalog import Catalog
from shared.decimals import plain

DepartmentName = Callable[[str], str]


def bureau_name(league: str) -> str:
    """The lead bureau (初审责任主体) of a 盟市."""
    return f"{league}自然资源局"


def self_label(entry: Mapping | None) -> str:
    """The enterprise's self-assessment of one indicator, in words (no sub-item keys)."""
    if not entry:
        return "未填写"
    if entry.get("not_applicable"):
        return "不涉及"
    if "score" in entry:
        return f"{entry['score']} 分"
    if "findings" in entry:
        return f"不符合 {entry['findings']} 处"
    if "deductions" in entry:
        return f"扣分条件 {len(entry['deductions'])} 项" if entry["deductions"] else "无扣分"
    if "items" in entry:
        return f"加分子项 {sum(1 for v in entry['items'].values() if v)} 项"
    return "未填写"


def judgement(item) -> str:
    """A department's judgement of one indicator, in words."""
    if item is None:
        return "未判定"
    label = getattr(item, "verdict_label", "")
    parts = [label] if label else []
    if item.score is not None:
        parts.append(f"{plain(item.score)} 分")
    if item.not_applicable and "确认不涉及" not in parts:
        parts.append("不涉及")
    return " ".join(parts) or "认可自评"


def case_heading(case: ReviewCase | None, task: ReviewTask | None = None) -> dict:
    """What heads every sheet: 办件编号, enterprise, mine, 盟市/旗县."""
    source = task or case
    return {"case_no": (task.case_no if task else None) or (case.case_no if case else None) or "",
            "application_id": source.application_id, "enterprise": dict(source.enterprise),
            "mine": dict(source.mine), "league": source.league, "county": source.county,
            "bureau": bureau_name(source.league)}


def opinion_sheet(task: ReviewTask, catalog: Catalog, name: DepartmentName, case: ReviewCase | None = None) -> dict:
    """部门审核意见表: the task's current opinion, item by item."""
    opinion = task.current_opinion
    if opinion is None:
        raise InvalidTransition(f"{name(task.department)}尚未出具审核意见，暂无审核意见表")
    prerequisites = []
    for code in task.prerequisites:
        finding = opinion.prerequisite(code)
        prerequisites.append({"code": code, "name": catalog.prerequisite(code).name,
                              "judgement": ("满足" if finding.met else "不满足") if finding else "未判定",
                              "note": finding.note if finding else ""})
    indicators = []
    for no in task.indicators:
        indicator = catalog.indicator(no)
        item = opinion.indicator(no)
        indicators.append({"no": no, "name": indicator.name, "points": plain(indicator.points),
                           "binding": indicator.binding, "self": self_label(task.entries.get(str(no))),
                           "judgement": judgement(item),
                           "note": "；".join(x for x in ((item.opinion, item.reason) if item else ()) if x),
                           "record": item.record if item else ""})
    checks = []
    for code in task.checks:
        finding = next((c for c in opinion.checks if c.check == code), None)
        checks.append({"label": check_by_code(code).label,
                       "judgement": ("通过" if finding.passed else "未通过") if finding else "未判定",
                       "note": finding.note if finding else ""})
    site_checks = [{"checked_on": s.checked_on.isoformat(), "location": s.location,
                    "inspectors": "、".join(s.inspectors), "observations": s.observations,
                    "photos": len(s.photos)} for s in opinion.site_checks]
    return {**case_heading(case, task), "title": "部门审核意见表", "version_no": task.version_no,
            "department": name(task.department), "lead": task.lead, "due_date": task.due_date.isoformat(),
            "decision": opinion.decision_label, "comments": opinion.comments, "sequence": opinion.sequence,
            "superseded": len(task.opinions) - 1, "given_by_name": opinion.given_by_name,
            "given_at": opinion.given_at, "prerequisites": prerequisites, "indicators": indicators,
            "checks": checks, "site_checks": site_checks}


def countersign_sheet(case: ReviewCase, version_no: int, tasks: list[ReviewTask], name: DepartmentName,
                      printed_at: datetime) -> dict:
    """会签单: every department of the version, its conclusion, reviewer and time."""
    version = case.version_of(version_no)
    rows = []
    for task in sorted(tasks, key=lambda t: (not t.lead, t.department)):
        opinion = task.current_opinion
        rows.append({"department": name(task.department), "lead": task.lead,
                     "conclusion": opinion.decision_label if opinion else f"未出具意见（{task.status_label}）",
                     "agreed": bool(opinion and opinion.decision == "agree"),
                     "comments": opinion.comments if opinion else "",
                     "reviewer": opinion.given_by_name if opinion else (task.claimed_by_name or ""),
                     "given_at": opinion.given_at if opinion else None})
    decision = version.decision
    return {**case_heading(case), "title": "绿色矿山初审会签单", "version_no": version_no,
            "version_status": version.status_label, "submitted_at": version.submitted_at,
            "routed_at": version.routed_at, "rows": rows,
            "agreed": sum(1 for r in rows if r["agreed"]), "total": len(rows),
            "decision": decision.label if decision else None,
            "decided_by_name": decision.decided_by_name if decision else None,
            "decided_at": decision.decided_at if decision else None, "printed_at": printed_at}


def decision_sheet(case: ReviewCase, version_no: int, catalog: Catalog) -> dict:
    """初审意见: the bureau's decision on a version, its reasons and the re-score it was taken on."""
    version = case.version_of(version_no)
    decision = version.decision
    if decision is None:
        raise InvalidTransition(f"第 {version_no} 版申报尚未作出初审决定（{version.status_label}），暂无初审意见")
    reasons = []
    for reason in decision.reasons:
        subject = reason.subject
        if reason.indicator is not None:
            try:
                subject = f"{subject}（{catalog.indicator(reason.indicator).name}）"
            except KeyError:
                pass
        elif reason.prerequisite:
            try:
                subject = f"{subject}（{catalog.prerequisite(reason.prerequisite).name}）"
            except KeyError:
                pass
        reasons.append({"subject": subject, "text": reason.text})
    report = decision.report or {}
    rescore = None
    if report:
        rescore = {"total": report.get("total"), "verdict": report.get("verdict_label") or (
                       "达标" if report.get("verdict") == "qualified" else "未达标"),
                   "failed_binding": [str(n) for n in report.get("failed_binding") or ()],
                   "failed_prerequisites": list(report.get("failed_prerequisites") or ())}
    wording = {"forwarded": "经审核，该矿山符合绿色矿山遴选条件，同意通过初审，报自治区自然资源厅。",
               "returned": "经审核，申报材料需补正，退回企业按以下意见补正后重新提交。",
               "rejected": "经审核，该矿山不符合绿色矿山遴选条件，初审不予通过。"}[decision.decision]
    return {**case_heading(case), "title": "绿色矿山初审意见", "version_no": version_no,
            "submitted_at": version.submitted_at, "decision": decision.label, "outcome": decision.decision,
            "wording": wording, "reasons": reasons, "rescore": rescore,
            "decided_by_name": decision.decided_by_name, "decided_at": decision.decided_at,
            "checks": [c.label for c in INITIAL_REVIEW_CHECKS]}


# --- handlers -------------------------------------------------------------------------------------------------
def _version_no(case: ReviewCase, asked: int | None) -> int:
    if asked is None:
        if case.latest is None:
            raise NotFound(f"申报 {case.application_id} 尚无版本")
        return case.latest.version_no
    try:
        return case.version_of(asked).version_no
    except KeyError:
        raise NotFound(f"申报 {case.application_id} 没有第 {asked} 版") from None


def print_opinion_sheet(cmd: PrintOpinionSheet, uow: ReviewUnitOfWork, *, catalogs: Catalogs) -> dict:
    def read():
        task = readable_task(uow, cmd.actor, cmd.task_id, "您无权查看该审核任务（仅限本部门、本辖区）")
        return task, uow.cases.get(task.application_id)

    task, case = uow.run(read)
    return opinion_sheet(task, catalogs(task.catalog), lambda code: department_name(catalogs, code, task.catalog),
                         case)


def print_countersign_sheet(cmd: PrintCountersignSheet, uow: ReviewUnitOfWork, *, catalogs: Catalogs,
                            clock: Callable[[], datetime]) -> dict:
    def read():
        case = readable_case(uow, cmd.actor, cmd.application_id)
        version_no = _version_no(case, cmd.version_no)
        return case, version_no, uow.tasks.of_case(case.application_id, version_no)

    case, version_no, tasks = uow.run(read)
    return countersign_sheet(case, version_no, tasks, lambda code: department_name(catalogs, code, case.catalog),
                             clock())


def print_decision(cmd: PrintDecision, uow: ReviewUnitOfWork, *, catalogs: Catalogs) -> dict:
    def read():
        case = readable_case(uow, cmd.actor, cmd.application_id)
        return case, _version_no(case, cmd.version_no)

    case, version_no = uow.run(read)
    return decision_sheet(case, version_no, catalogs(case.catalog))
